#!/usr/bin/env bash
# The dashboard's browser test (test/ui/dashboard.int.test.ts) drives Debian's chromium
# through playwright-core, which downloads no browser of its own. Installs it when missing
# (as root, or with password-less sudo); otherwise stops with what to do.
set -euo pipefail
if [ -n "${CHROMIUM_PATH:-}" ]; then
  [ -x "$CHROMIUM_PATH" ] || { echo "CHROMIUM_PATH=$CHROMIUM_PATH is not an executable"; exit 1; }
  exit 0
fi
command -v chromium >/dev/null && exit 0
echo "chromium not found: installing it (apt-get install chromium)"
if [ "$(id -u)" = 0 ]; then
  as_root=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  echo "chromium is required by the browser test: run 'apt-get install chromium' as root, or set CHROMIUM_PATH"
  exit 1
fi
command -v apt-get >/dev/null || { echo "no apt-get here: install chromium, or set CHROMIUM_PATH"; exit 1; }
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
command -v chromium >/dev/null || { echo "chromium did not install"; exit 1; }
chromium --version 2>/dev/null | sed -n 1p
