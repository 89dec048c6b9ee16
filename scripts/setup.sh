# Shared set-up for scripts/run-app.sh and scripts/test-all.sh: installs what is missing on a
# fresh Debian 12 machine (as root) and skips what is already there. Sourced, not run.

# The cargo target dir: $CARGO_TARGET_DIR when set, else the repository's target/.
target_dir() {
  echo "${CARGO_TARGET_DIR:-$PWD/target}"
}

apt_install_missing() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "==> apt-get install ${missing[*]}"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
}

# What building and opening the Tauri window needs.
ensure_app_packages() {
  apt_install_missing libwebkit2gtk-4.1-dev build-essential curl file libxdo-dev libssl-dev \
    pkg-config libayatana-appindicator3-dev librsvg2-dev xvfb xauth dbus gnome-keyring
}

# Runs "$@" inside a private D-Bus session with an unlocked gnome-keyring (the Secret Service),
# for machines with no desktop session. The keyring password comes from $CLEOM_KEYRING_PASSWORD.
#
# gnome-keyring 42 can abort when a Secret Service client goes away in the middle of a call
# (a test killing an app; the same abort is reported against other keyring-crate apps). The
# session's bus would then start a fresh daemon on the next call, one that cannot unlock the
# keyring, and every later keychain call in the run would fail as "locked". So this bus does
# not start keyring daemons itself (its service folder leaves out the keyring's activation
# files), and a supervisor starts the one daemon again, unlocked with the same password (the
# keyring file keeps its items), saying so on stderr.
with_secret_service() {
  local bus_dir rc=0
  bus_dir=$(mktemp -d)
  mkdir "$bus_dir/services"
  local file
  for file in /usr/share/dbus-1/services/*.service; do
    case "${file##*/}" in
      org.freedesktop.secrets.service | org.gnome.keyring.service | org.freedesktop.impl.portal.Secret.service) ;;
      *) ln -s "$file" "$bus_dir/services/" ;;
    esac
  done
  sed "s|<standard_session_servicedirs */>|<servicedir>$bus_dir/services</servicedir>|" \
    /usr/share/dbus-1/session.conf >"$bus_dir/session.conf"
  dbus-run-session --config-file="$bus_dir/session.conf" -- sh -c '
    supervise() {
      while :; do
        printf "%s" "$CLEOM_KEYRING_PASSWORD" | gnome-keyring-daemon --unlock --foreground --components=secrets >/dev/null
        echo "==> gnome-keyring-daemon ended (status $?): starting it again, unlocked" >&2
        sleep 0.2
      done
    }
    supervise &
    supervisor=$!
    tries=0
    until dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
        org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q "boolean true"; do
      tries=$((tries + 1))
      if [ "$tries" -gt 100 ]; then echo "gnome-keyring-daemon did not start" >&2; exit 1; fi
      sleep 0.1
    done
    "$@"
    rc=$?
    kill "$supervisor"
    exit "$rc"' sh "$@" || rc=$?
  rm -rf "$bus_dir"
  return "$rc"
}

ensure_toolchains() {
  command -v cargo >/dev/null || { echo "cargo is missing: install Rust (rustup) first" >&2; exit 1; }
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    apt_install_missing nodejs npm
  fi
  local major
  major=$(node -p 'process.versions.node.split(".")[0]')
  if [ "$major" -lt 20 ]; then
    echo "Node.js $major is too old for Vite 7: Node 20.19 or newer is needed" >&2
    exit 1
  fi
}

# Installs the UI's locked npm packages unless node_modules already matches the lock file.
ensure_ui_packages() {
  if [ ! -f ui/node_modules/.package-lock.json ] || ! cmp -s ui/package-lock.json ui/node_modules/.cleom-lock; then
    echo "==> npm ci (ui)"
    (cd ui && npm ci --no-audit --no-fund && cp package-lock.json node_modules/.cleom-lock)
  fi
}

# Installs firebase-tools (the Auth emulator the contract suite runs) from its lock file.
ensure_emulator_packages() {
  if [ ! -f tests/emulators/node_modules/.package-lock.json ] || ! cmp -s tests/emulators/package-lock.json tests/emulators/node_modules/.cleom-lock; then
    echo "==> npm ci (tests/emulators: firebase-tools)"
    (cd tests/emulators && npm ci --no-audit --no-fund && cp package-lock.json node_modules/.cleom-lock)
  fi
}

build_ui() {
  echo "==> building the UI"
  (cd ui && npm run build)
}

# The release installers for this OS with the Tauri CLI pinned in ui/package-lock.json: on
# Linux a .deb and an .rpm under <target>/release/bundle/ (AppImage needs tools the bundler
# downloads at build time, which this machine cannot). Extra arguments go to `tauri build`.
build_installers() {
  build_ui
  echo "==> tauri build --bundles deb,rpm $*"
  ui/node_modules/.bin/tauri build --ci --bundles deb,rpm "$@"
}

# The app's version: the workspace's, the one place it is kept.
app_version() {
  sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1
}

# The built .deb of version $1.
built_deb() {
  ls "$(target_dir)"/release/bundle/deb/*_"$1"_amd64.deb
}

# Debian's own Rust (1.96, with the standard library's source) and the mingw C compiler: what
# checking the workspace for Windows needs, as rustup here cannot download other targets.
ensure_windows_toolchain() {
  apt_install_missing rustc-web cargo-web rust-web-src gcc-mingw-w64-x86-64
}

# Debian's cargo, allowed to build std for another target from source (-Zbuild-std, allowed on
# a stable compiler by RUSTC_BOOTSTRAP), with its own CARGO_HOME so that it never shares build
# outputs with rustup's toolchain. Each check gives it its own target dir.
cross_cargo() {
  env PATH=/usr/bin:/bin RUSTC_BOOTSTRAP=1 \
    CARGO_HOME="${CLEOM_WINDOWS_CARGO_HOME:-${CLEOM_WINDOWS_CHECK_DIR:-/var/tmp/cleom-windows}/cargo-home}" \
    /usr/bin/cargo "$@"
}

# `cargo check` of the whole workspace, tests and benches included, for 64-bit Windows. Fails
# when anything does not compile.
check_windows() {
  local root="${CLEOM_WINDOWS_CHECK_DIR:-/var/tmp/cleom-windows}"
  echo "==> cargo check --workspace --all-targets --target x86_64-pc-windows-gnu"
  CARGO_TARGET_DIR="${CLEOM_WINDOWS_TARGET_DIR:-$root/target}" \
    CC_x86_64_pc_windows_gnu=x86_64-w64-mingw32-gcc \
    cross_cargo check -Zbuild-std=std,panic_abort --workspace --all-targets \
    --target x86_64-pc-windows-gnu
}

# For macOS this machine has no C compiler or SDK, so the crates that build C for the target
# (ring, openssl-sys, libsqlite3-sys) cannot be checked. What can be is the keychain: `keyring`
# as cleom-core builds it for macOS (its apple-native store, security-framework; never the
# mock), with the workspace's feature resolution for that target (docs/platforms.md).
check_macos_keychain() {
  local root="${CLEOM_WINDOWS_CHECK_DIR:-/var/tmp/cleom-windows}" features
  echo "==> cargo check -p keyring --target x86_64-apple-darwin (the macOS keychain store)"
  CARGO_TARGET_DIR="${CLEOM_MACOS_TARGET_DIR:-$root/target-macos}" \
    cross_cargo check -Zbuild-std=std,panic_abort -p keyring --target x86_64-apple-darwin
  features=$(cross_cargo tree -e features -i keyring --target x86_64-apple-darwin --prefix none |
    awk '/^keyring feature/ { print $3 }' | sort -u | tr '\n' ' ')
  echo "keyring's features for macOS: $features"
  if ! echo "$features" | grep -q '"apple-native"' ||
    echo "$features" | grep -qE 'secret-service|linux-native|windows-native|keyutils'; then
    echo "keyring for macOS must use the apple-native store and no other" >&2
    return 1
  fi
}
