#!/usr/bin/env bash
# Install poppler's pdfsig (Debian package poppler-utils), the independent PDF signature validator,
# when it is missing and we may install packages. Never fails by itself: the tests decide.
set -u
if command -v pdfsig >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq poppler-utils >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq poppler-utils >/dev/null 2>&1; }
fi
if command -v pdfsig >/dev/null 2>&1; then exit 0; fi
echo "ensure_poppler: pdfsig (poppler-utils) is not available" >&2
exit 0
