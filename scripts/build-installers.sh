#!/usr/bin/env bash
# Builds Cleom Desktop's release installers for this machine's OS (on Linux: .deb and .rpm
# under <target>/release/bundle/). Set $CLEOM_UPDATER_PUBKEY to the release signing key's
# public half to build an app that accepts signed updates (docs/updates.md).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh

ensure_app_packages
ensure_toolchains
ensure_ui_packages
build_installers "$@"
ls -l "$(target_dir)"/release/bundle/*/*.{deb,rpm} 2>/dev/null || true
