#!/usr/bin/env bash
# Installs what the tests need and runs every test: formatting and lints, the UI's unit tests,
# and the Rust unit and integration tests, including the real-window end-to-end test
# (tauri-driver + WebKitWebDriver under Xvfb) and the keychain tests against a real
# gnome-keyring in a private D-Bus session.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh

ensure_app_packages
apt_install_missing webkit2gtk-driver imagemagick xdotool
command -v java >/dev/null || apt_install_missing openjdk-17-jre-headless
ensure_toolchains
if ! command -v tauri-driver >/dev/null; then
  echo "==> cargo install tauri-driver"
  cargo install tauri-driver --locked --version '^2'
fi
ensure_windows_toolchain
ensure_ui_packages
ensure_emulator_packages
build_ui

echo "==> UI unit tests"
(cd ui && npm test)

echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
# What cannot run here is at least compiled here: the whole workspace, tests included, for
# Windows (docs/platforms.md). set -e: a Windows compile error fails the suite.
check_windows

echo "==> cargo test (real keychain, real window; cargo builds the app binary the window tests drive)"
# Google's Firestore emulator comes from Google's apt repository (google-cloud-cli-firestore-emulator):
# where it is installed the emulator contract run may not skip; where it is not, that one run
# says so loudly and skips.
if dpkg-query -W -f='${Status}' google-cloud-cli-firestore-emulator 2>/dev/null | grep -q "install ok installed"; then
  export CLEOM_REQUIRE_EMULATORS=1
fi
export CLEOM_REAL_KEYCHAIN=1 CLEOM_REQUIRE_E2E=1 CLEOM_KEYRING_PASSWORD=cleom-test
# The keyring and the app's data live in a throwaway home; cargo keeps its own.
export CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}" RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
test_home=$(mktemp -d)
trap 'rm -rf "$test_home"' EXIT
HOME="$test_home" XDG_DATA_HOME="$test_home/.local/share" with_secret_service \
  xvfb-run -a -s "-screen 0 1280x800x24" cargo test --workspace
