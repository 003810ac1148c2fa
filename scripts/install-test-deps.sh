#!/usr/bin/env bash
# Installs what the tests talk to, from Debian's packages, when missing: redis-server (the
# cluster and Redis bus tests spawn their own on free ports), chromium (web client tests) and an
# emoji font for their screenshots.
set -euo pipefail
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
[ -x /usr/bin/chromium ] || missing+=(chromium)
# Emoji in the web client's screenshots (reactions) render as empty boxes without it.
dpkg -s fonts-noto-color-emoji >/dev/null 2>&1 || missing+=(fonts-noto-color-emoji)
if ((${#missing[@]})); then
  echo "installing ${missing[*]} from Debian's packages"
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
redis-server --version | head -1
/usr/bin/chromium --version
