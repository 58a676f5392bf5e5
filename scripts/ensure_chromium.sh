#!/bin/sh
# The JupyterLab extension's browser test drives Debian's Chromium through Playwright
# (Playwright's own browser download is not used). Install it when it is missing and we may.
set -eu
chromium="${BOOKSTORE_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$chromium" ]; then
    exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> installing Chromium for the browser test (apt-get install chromium)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
    exit 0
fi
echo "The browser test needs Chromium at $chromium: install it (Debian: sudo apt-get install chromium)," >&2
echo "or point BOOKSTORE_CHROMIUM at a Chromium or Chrome binary." >&2
exit 1
