#!/usr/bin/env bash
# Install wrk (Debian package wrk), the HTTP load generator of `make bench-http`, when it is
# missing and we may install packages. Never fails by itself: `python -m bench.http` says what is
# missing, and its smoke test decides (a failure under CI=true, a skip otherwise).
set -u
if command -v wrk >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq wrk >/dev/null 2>&1; }
fi
if command -v wrk >/dev/null 2>&1; then exit 0; fi
echo "ensure_wrk: wrk is not available (Debian package wrk)" >&2
exit 0
