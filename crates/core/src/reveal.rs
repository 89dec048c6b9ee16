//! "Show in folder" asks the system to reveal a path the window names, so the app decides here
//! which paths that may be: only files the app itself saved (and the histories a reset set
//! aside, which the user may send for recovery), so the window cannot make the app show (or
//! probe for) arbitrary paths.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// A file that may be shown, and the folder it is in (opened instead where a file cannot be
/// selected). Both are canonical: no `..`, no symbolic link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revealable {
    pub file: PathBuf,
    pub folder: PathBuf,
}

/// Folder extensions that macOS treats as a package: "opening" such a folder (the fallback when
/// a file cannot be selected) would launch or install it rather than show it.
const PACKAGE_EXTENSIONS: [&str; 8] = [
    "app",
    "appex",
    "bundle",
    "framework",
    "kext",
    "mpkg",
    "pkg",
    "plugin",
];

/// Whether `path` may be revealed: a file in `export_dir` or `set_aside_dir` (the data folder's
/// `set-aside`, see `DataDir::set_aside_root`), or a folder inside them, or directly in
/// `chosen_folder`, the folder the user last picked with "Download to…", and never inside an
/// app bundle or another package. Checked on the canonical path, so `..` and symbolic links
/// that lead elsewhere are refused. Refusals are `request.invalid`; an export folder that
/// cannot be resolved is `io.failed` (a missing set-aside folder simply allows nothing).
pub fn revealable(
    path: &Path,
    export_dir: &Path,
    set_aside_dir: &Path,
    chosen_folder: Option<&Path>,
) -> Result<Revealable> {
    let outside = || {
        Error::InvalidInput(
            "Only a file in the export folder, a folder you chose or a set-aside copy can be \
             shown."
                .into(),
        )
    };
    let root = std::fs::canonicalize(export_dir)?;
    let set_aside = std::fs::canonicalize(set_aside_dir).ok();
    let chosen = chosen_folder.and_then(|f| std::fs::canonicalize(f).ok());
    let file = std::fs::canonicalize(path).map_err(|_| outside())?;
    let folder = file.parent().ok_or_else(outside)?.to_path_buf();
    let allowed = folder.starts_with(&root)
        || set_aside.is_some_and(|dir| folder.starts_with(dir))
        || chosen.as_ref() == Some(&folder);
    if !allowed || !file.is_file() || in_a_package(&folder) {
        return Err(outside());
    }
    Ok(Revealable { file, folder })
}

/// Whether any folder on `folder`'s path is a package (see [`PACKAGE_EXTENSIONS`]).
fn in_a_package(folder: &Path) -> bool {
    folder.ancestors().any(|dir| {
        dir.extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| PACKAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Folders {
        _dir: tempfile::TempDir,
        exports: PathBuf,
        set_aside: PathBuf,
        chosen: PathBuf,
        elsewhere: PathBuf,
    }

    fn folders() -> Folders {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        let [exports, set_aside, chosen, elsewhere] =
            ["exports", "set-aside", "chosen", "elsewhere"].map(|name| root.join(name));
        for folder in [&exports, &set_aside, &chosen, &elsewhere] {
            std::fs::create_dir_all(folder.join("inner")).unwrap();
            std::fs::write(folder.join("a.zip"), b"a").unwrap();
            std::fs::write(folder.join("inner").join("b.gif"), b"b").unwrap();
        }
        Folders {
            _dir: dir,
            exports,
            set_aside,
            chosen,
            elsewhere,
        }
    }

    fn check(f: &Folders, path: &Path) -> Result<Revealable> {
        revealable(path, &f.exports, &f.set_aside, Some(&f.chosen))
    }

    fn refused(f: &Folders, path: &Path) {
        let err = check(f, path).unwrap_err();
        assert_eq!(err.code(), "request.invalid", "{}", path.display());
    }

    #[test]
    fn files_in_the_export_folder_and_the_chosen_folder_may_be_shown() {
        let f = folders();
        assert_eq!(
            check(&f, &f.exports.join("a.zip")).unwrap(),
            Revealable {
                file: f.exports.join("a.zip"),
                folder: f.exports.clone()
            }
        );
        let inner = check(&f, &f.exports.join("inner").join("b.gif")).unwrap();
        assert_eq!(inner.folder, f.exports.join("inner"));
        assert_eq!(check(&f, &f.chosen.join("a.zip")).unwrap().folder, f.chosen);
    }

    #[test]
    fn a_history_set_aside_may_be_shown_to_send_it_for_recovery() {
        let f = folders();
        let copy = f.set_aside.join("u1").join("20261202T061500Z");
        std::fs::create_dir_all(&copy).unwrap();
        std::fs::write(copy.join("history.db"), b"pages").unwrap();
        assert_eq!(
            check(&f, &copy.join("history.db")).unwrap(),
            Revealable {
                file: copy.join("history.db"),
                folder: copy.clone()
            }
        );
        check(&f, &f.set_aside.join("a.zip")).unwrap();
        // Its neighbours in the data folder are not, nor is `..` out of it.
        refused(&f, &f.set_aside.join("..").join("elsewhere").join("a.zip"));
        refused(&f, &copy);
        // With no set-aside folder yet, nothing there is allowed, and the rest still works.
        let missing = f.elsewhere.join("no-set-aside");
        let only_exports = |path: &Path| revealable(path, &f.exports, &missing, None);
        only_exports(&f.exports.join("a.zip")).unwrap();
        assert_eq!(
            only_exports(&f.elsewhere.join("a.zip")).unwrap_err().code(),
            "request.invalid"
        );
    }

    #[test]
    fn anything_else_is_refused() {
        let f = folders();
        refused(&f, &f.elsewhere.join("a.zip"));
        // The chosen folder itself, not the folders inside it.
        refused(&f, &f.chosen.join("inner").join("b.gif"));
        // Folders are not files, and missing files are not shown either.
        refused(&f, &f.exports);
        refused(&f, &f.exports.join("inner"));
        refused(&f, &f.exports.join("missing.zip"));
        // `..` is resolved before the check.
        refused(&f, &f.exports.join("..").join("elsewhere").join("a.zip"));
        refused(
            &f,
            &f.exports
                .join("inner")
                .join("..")
                .join("..")
                .join("elsewhere")
                .join("a.zip"),
        );
        // Without a chosen folder, only the export folder.
        assert_eq!(
            revealable(&f.chosen.join("a.zip"), &f.exports, &f.set_aside, None)
                .unwrap_err()
                .code(),
            "request.invalid"
        );
    }

    #[test]
    fn nothing_inside_an_app_bundle_is_shown_even_where_files_may_be() {
        let f = folders();
        for bundle in ["Cleom.app", "Tool.APP", "Installer.pkg"] {
            let inside = f.exports.join(bundle).join("Contents");
            std::fs::create_dir_all(&inside).unwrap();
            std::fs::write(inside.join("Info.plist"), b"<plist/>").unwrap();
            refused(&f, &inside.join("Info.plist"));
            // A folder the user chose that is itself a bundle.
            let chosen = f.elsewhere.join(bundle);
            std::fs::create_dir_all(&chosen).unwrap();
            std::fs::write(chosen.join("clip.mp4"), b"c").unwrap();
            assert_eq!(
                revealable(
                    &chosen.join("clip.mp4"),
                    &f.exports,
                    &f.set_aside,
                    Some(&chosen)
                )
                .unwrap_err()
                .code(),
                "request.invalid"
            );
        }
        // A name that only contains the word is fine.
        let fine = f.exports.join("app-clips");
        std::fs::create_dir_all(&fine).unwrap();
        std::fs::write(fine.join("a.gif"), b"a").unwrap();
        check(&f, &fine.join("a.gif")).unwrap();
    }

    #[test]
    fn a_missing_export_folder_is_an_io_error() {
        let f = folders();
        let err = revealable(
            &f.exports.join("a.zip"),
            &f.elsewhere.join("none"),
            &f.set_aside,
            None,
        )
        .unwrap_err();
        assert_eq!(err.code(), "io.failed");
    }

    #[cfg(unix)]
    #[test]
    fn a_symbolic_link_counts_where_it_leads() {
        let f = folders();
        let out = f.exports.join("out.zip");
        std::os::unix::fs::symlink(f.elsewhere.join("a.zip"), &out).unwrap();
        refused(&f, &out);
        std::os::unix::fs::symlink(&f.elsewhere, f.exports.join("linked")).unwrap();
        refused(&f, &f.exports.join("linked").join("a.zip"));
        // A link elsewhere that leads into the export folder shows the real file.
        let into = f.elsewhere.join("in.zip");
        std::os::unix::fs::symlink(f.exports.join("a.zip"), &into).unwrap();
        assert_eq!(check(&f, &into).unwrap().file, f.exports.join("a.zip"));
    }
}
