//! One short test per bug that was fixed without a test of its own (ripgrep's
//! tests/regression.rs). Each sits under a comment naming the bug and the commit that fixed it.
//! A bug fixed from now on gets its test here, unless a test of the area catches it already.

use std::path::Path;

fn repository_file(path: &str) -> String {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

fn bundle_config() -> serde_json::Value {
    serde_json::from_str(&repository_file("tauri.conf.json")).unwrap()
}

// c740bdf: the bundler's default desktop entry ran `Exec=cleom-desktop` without `%u`, so a
// cleom:// link opened from the system started the app without the link.
#[test]
fn the_linux_desktop_entry_passes_the_link_on() {
    let config = bundle_config();
    for package in ["deb", "rpm"] {
        assert_eq!(
            config["bundle"]["linux"][package]["desktopTemplate"], "packaging/linux.desktop",
            "the {package} package uses the project's desktop entry"
        );
    }
    let entry = repository_file("packaging/linux.desktop");
    let exec = entry
        .lines()
        .find(|line| line.starts_with("Exec="))
        .expect("an Exec line");
    assert!(exec.ends_with(" %u"), "{exec}");
    assert!(entry.contains("MimeType={{mime_type}}"), "{entry}");
}

// c9cc6a1: a 128x128@2x icon in the bundle list was installed by the deb bundler under a
// non-standard hicolor/256x256@2 folder, where no desktop looks for it.
#[test]
fn the_bundle_lists_no_hidpi_variant_icons() {
    let icons = bundle_config()["bundle"]["icon"].clone();
    let icons = icons.as_array().expect("bundle.icon is a list");
    assert!(!icons.is_empty());
    for icon in icons {
        let icon = icon.as_str().unwrap();
        assert!(!icon.contains('@'), "{icon}");
        assert!(
            Path::new(env!("CARGO_MANIFEST_DIR")).join(icon).is_file(),
            "{icon} is in the repository"
        );
    }
}

// e9e254d: gnome-keyring aborted once in a CI run, the session bus then started a new daemon
// that could not unlock the keyring, and every later keychain test failed as "locked". The
// test session's bus must not start keyring daemons itself (scripts/setup.sh supervises one).
#[test]
#[cfg(target_os = "linux")]
fn the_test_session_never_activates_a_locked_keyring() {
    if std::env::var_os("CLEOM_REAL_KEYCHAIN").is_none() {
        eprintln!("SKIPPED: not in the test session of scripts/test-all.sh");
        return;
    }
    let ask = |method: &str, args: &[&str]| {
        let out = std::process::Command::new("dbus-send")
            .args([
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                &format!("org.freedesktop.DBus.{method}"),
            ])
            .args(args)
            .output()
            .expect("dbus-send runs");
        assert!(out.status.success(), "{method}: {out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    assert!(
        ask("NameHasOwner", &["string:org.freedesktop.secrets"]).contains("boolean true"),
        "the supervised gnome-keyring owns the Secret Service"
    );
    let activatable = ask("ListActivatableNames", &[]);
    for name in ["org.freedesktop.secrets", "org.gnome.keyring"] {
        assert!(
            !activatable.contains(&format!("\"{name}\"")),
            "{name} is activatable: {activatable}"
        );
    }
}
