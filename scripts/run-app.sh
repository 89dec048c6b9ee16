#!/usr/bin/env bash
# Builds the UI and the app, then opens Cleom Desktop on its embedded local backend
# (in-process on loopback; no network needed). Without a $DISPLAY it opens on a virtual one;
# without a desktop session it starts a D-Bus session with gnome-keyring, so credentials still
# go to a real Secret Service (its login keyring under ~/.local/share/keyrings).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh

ensure_app_packages
ensure_toolchains
ensure_ui_packages
build_ui
echo "==> building the app"
cargo build --bin cleom-desktop
cmd=("$(target_dir)/debug/cleom-desktop" "$@")
if [ -z "${DISPLAY:-}" ]; then
  echo "==> no \$DISPLAY: opening the window on a virtual display (xvfb-run)"
  cmd=(xvfb-run -a -s "-screen 0 1280x800x24" "${cmd[@]}")
fi
if [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then
  # gnome-keyring keeps a keyring with an empty password locked, so a headless machine gets a
  # fixed development password unless you choose one; a desktop session uses its own keyring.
  echo "==> no D-Bus session: starting one with gnome-keyring (keyring password: \$CLEOM_KEYRING_PASSWORD, default 'cleom-dev')"
  export CLEOM_KEYRING_PASSWORD="${CLEOM_KEYRING_PASSWORD:-cleom-dev}"
  with_secret_service "${cmd[@]}"
else
  exec "${cmd[@]}"
fi
