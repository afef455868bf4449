#!/usr/bin/env bash
# System packages ocweb needs (Debian): git; ripgrep for opencode's search tools; chromium and dbus-daemon for the UI tests.
set -euo pipefail
missing=()
command -v git >/dev/null || missing+=(git)
command -v rg >/dev/null || missing+=(ripgrep)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v dbus-daemon >/dev/null || missing+=(dbus-daemon) # a private session bus: the notification test's "lock screen"
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi
