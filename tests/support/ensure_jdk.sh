#!/usr/bin/env bash
# Install a JDK (Debian package openjdk-17-jdk-headless: java and keytool) when it is missing and we
# may install packages: the keystore import tests make the reference's PKCS#12 keystore with it.
# Never fails by itself: the tests decide (a failure under CI=true, a skip otherwise).
set -u
if command -v java >/dev/null 2>&1 && command -v keytool >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq openjdk-17-jdk-headless >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq openjdk-17-jdk-headless >/dev/null 2>&1; }
fi
if command -v java >/dev/null 2>&1 && command -v keytool >/dev/null 2>&1; then exit 0; fi
echo "ensure_jdk: java and keytool (openjdk-17-jdk-headless) are not available" >&2
exit 0
