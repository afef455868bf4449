#!/usr/bin/env bash
# System packages ocweb needs (Debian): git, and ripgrep for opencode's search tools.
set -euo pipefail
missing=()
command -v git >/dev/null || missing+=(git)
command -v rg >/dev/null || missing+=(ripgrep)
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "${missing[@]}"
fi
