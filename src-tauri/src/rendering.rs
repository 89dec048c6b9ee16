//! How WebKitGTK draws the window: composited with OpenGL, or painted by WebKit itself.
//!
//! WebKitGTK composites pages with OpenGL. On a machine without a GPU (a virtual machine, a
//! remote desktop, a sandbox without `/dev/dri`), Mesa runs that OpenGL on the CPU (llvmpipe),
//! and compositing then costs more than WebKit painting the page itself. Flinging the Library of
//! 100,000 generations measured 41 ms a frame (95th percentile) composited against 17 ms
//! painted (`tests/perf`, which prints both). So without a GPU the app asks WebKit not to
//! composite, before GTK starts; with one it leaves WebKit's default. A user who set
//! `WEBKIT_DISABLE_COMPOSITING_MODE` themselves (to any value) keeps their choice.

use std::ffi::OsString;
use std::path::Path;

/// WebKitGTK's own switch, read by its UI and web processes (which inherit the environment).
const DISABLE_COMPOSITING: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";

#[derive(Debug, PartialEq, Eq)]
pub enum Rendering {
    /// A GPU render node is there: WebKit composites with it.
    Composited,
    /// No GPU (or Mesa told to render in software): WebKit paints without compositing.
    PaintedWithoutGpu,
    /// `WEBKIT_DISABLE_COMPOSITING_MODE` was set by the user; left as it is.
    UsersChoice,
}

impl Rendering {
    /// One line for the log.
    pub fn describe(&self) -> &'static str {
        match self {
            Rendering::Composited => "composited on the GPU",
            Rendering::PaintedWithoutGpu => {
                "painted without compositing (no GPU render node, or software OpenGL)"
            }
            Rendering::UsersChoice => "as WEBKIT_DISABLE_COMPOSITING_MODE says",
        }
    }
}

/// What the machine calls for. `software_gl` is Mesa's `LIBGL_ALWAYS_SOFTWARE`.
fn choose_for(
    users_choice: Option<OsString>,
    has_render_node: bool,
    software_gl: Option<OsString>,
) -> Rendering {
    let forced_software = software_gl.is_some_and(|v| !v.is_empty() && v != "0" && v != "false");
    if users_choice.is_some() {
        Rendering::UsersChoice
    } else if has_render_node && !forced_software {
        Rendering::Composited
    } else {
        Rendering::PaintedWithoutGpu
    }
}

/// A DRM render node (`renderD128`, ...) is what Mesa needs to use a GPU.
fn has_render_node(dri: &Path) -> bool {
    std::fs::read_dir(dri).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("renderD"))
    })
}

/// Chooses, and tells WebKit. Call first thing in `main`, before any thread starts (it sets
/// an environment variable).
pub fn choose() -> Rendering {
    let rendering = choose_for(
        std::env::var_os(DISABLE_COMPOSITING),
        has_render_node(Path::new("/dev/dri")),
        std::env::var_os("LIBGL_ALWAYS_SOFTWARE"),
    );
    if rendering == Rendering::PaintedWithoutGpu {
        std::env::set_var(DISABLE_COMPOSITING, "1");
    }
    rendering
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(s: &str) -> Option<OsString> {
        Some(s.into())
    }

    #[test]
    fn a_gpu_composites_and_none_paints() {
        assert_eq!(choose_for(None, true, None), Rendering::Composited);
        assert_eq!(choose_for(None, false, None), Rendering::PaintedWithoutGpu);
    }

    #[test]
    fn software_opengl_paints_even_with_a_render_node() {
        assert_eq!(
            choose_for(None, true, os("1")),
            Rendering::PaintedWithoutGpu
        );
        assert_eq!(
            choose_for(None, true, os("true")),
            Rendering::PaintedWithoutGpu
        );
        assert_eq!(choose_for(None, true, os("0")), Rendering::Composited);
        assert_eq!(choose_for(None, true, os("")), Rendering::Composited);
    }

    #[test]
    fn the_users_own_setting_wins_either_way() {
        assert_eq!(choose_for(os("0"), false, None), Rendering::UsersChoice);
        assert_eq!(choose_for(os("1"), true, None), Rendering::UsersChoice);
    }

    #[test]
    fn a_render_node_is_found_among_the_dri_devices() {
        let dri = tempfile::tempdir().unwrap();
        assert!(!has_render_node(&dri.path().join("missing")));
        std::fs::write(dri.path().join("card0"), b"").unwrap();
        assert!(!has_render_node(dri.path()));
        std::fs::write(dri.path().join("renderD128"), b"").unwrap();
        assert!(has_render_node(dri.path()));
    }
}
