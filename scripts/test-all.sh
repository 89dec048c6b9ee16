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
# The updater installs a .deb with pkexec, else a password from zenity/kdialog for sudo, else
# plain sudo: this machine has no polkit (no system bus), so root's sudo is what installs the
# update in tests/installed (docs/updates.md says what a user is asked instead).
apt_install_missing sudo
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
# Windows, and the keychain store for macOS (docs/platforms.md). set -e: a compile error fails
# the suite.
check_windows
check_macos_keychain

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
# Runs "$@" in the tests' session: the throwaway home, the Secret Service, a virtual display.
in_test_session() {
  HOME="$test_home" XDG_DATA_HOME="$test_home/.local/share" with_secret_service \
    xvfb-run -a -s "-screen 0 1280x800x24" "$@"
}
in_test_session cargo test --workspace

echo "==> the installed package: build the release .deb, install it, test it, remove it"
# The package meets a home as a new user's is: the tests above ran debug builds, which register
# themselves as the cleom: link handler in their home (src-tauri/src/links.rs).
rm -rf "$test_home"
test_home=$(mktemp -d)
# A key pair made for this run only: the release build trusts its public half, and the update
# the installed test offers (the same app at the next patch version) is signed with its private
# half by the test itself.
update_keys=$(mktemp -d)
trap 'rm -rf "$test_home" "$update_keys"' EXIT
ui/node_modules/.bin/tauri signer generate --ci -p "" -w "$update_keys/update.key" >/dev/null
export CLEOM_UPDATER_PUBKEY
CLEOM_UPDATER_PUBKEY=$(cat "$update_keys/update.key.pub")
version=$(app_version)
next=$(echo "$version" | awk -F. '{ printf "%d.%d.%d", $1, $2, $3 + 1 }')
build_installers --config "{\"version\": \"$next\"}"
cp "$(built_deb "$next")" "$update_keys/"
build_installers
deb=$(built_deb "$version")
binary="$(target_dir)/release/cleom-desktop"
megabytes() { stat -c %s "$1" | awk '{ printf "%.1f", $1 / 1000000 }'; }
echo "bench installer_deb_size $(megabytes "$deb") MB"
echo "bench release_binary_size $(megabytes "$binary") MB"
apt-get install -y -q --reinstall "$deb"
export CLEOM_APP_BINARY=/usr/bin/cleom-desktop CLEOM_REQUIRE_INSTALLED=1
export CLEOM_TEST_UPDATE_VERSION="$next" CLEOM_TEST_UPDATE_KEY="$update_keys/update.key"
CLEOM_TEST_UPDATE_DEB=$(ls "$update_keys"/*.deb)
export CLEOM_TEST_UPDATE_DEB
# The links and one-instance window tests again, on the installed package: its desktop entry
# (not a debug build's own registration) is what hands a `cleom://` link to the app.
in_test_session cargo test --workspace --test it e2e_links
# The perf bench again, on the installed release build: its figures print with `_release`.
in_test_session cargo test --workspace --test perf
# Last, as it ends by removing the package.
in_test_session cargo test --workspace --test installed
