//! The app package's Cargo.toml sits at the repository root (it is also the workspace), so
//! tauri.conf.json is found there; its capabilities live in src-tauri/capabilities.
fn main() {
    println!("cargo:rerun-if-changed=src-tauri/capabilities");
    tauri_build::try_build(
        tauri_build::Attributes::new().capabilities_path_pattern("./src-tauri/capabilities/**/*"),
    )
    .expect("failed to run tauri-build");
}
