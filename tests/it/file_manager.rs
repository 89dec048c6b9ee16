//! A stand-in for the desktop's file manager service (`org.freedesktop.FileManager1`, which
//! Nautilus, Dolphin and others own) on the tests' private D-Bus session. "Show in folder" asks
//! it to show a file selected in its folder (`ShowItems`); the stand-in records the file URIs,
//! so a test reads exactly which file a user would see revealed. Only one process may own the
//! name, so a test holds it only while it needs it.

use std::sync::{Arc, Mutex};

struct Service {
    shown: Arc<Mutex<Vec<Vec<String>>>>,
}

#[zbus::interface(name = "org.freedesktop.FileManager1")]
impl Service {
    fn show_items(&self, uris: Vec<String>, _startup_id: String) {
        self.shown.lock().unwrap().push(uris);
    }

    fn show_folders(&self, _uris: Vec<String>, _startup_id: String) {}
}

/// The file manager service, registered on the session bus until stopped or dropped.
pub struct FileManagerService {
    connection: zbus::Connection,
    shown: Arc<Mutex<Vec<Vec<String>>>>,
}

impl FileManagerService {
    pub async fn start() -> FileManagerService {
        let shown = Arc::new(Mutex::new(Vec::new()));
        let connection = zbus::connection::Builder::session()
            .name("org.freedesktop.FileManager1")
            .serve_at(
                "/org/freedesktop/FileManager1",
                Service {
                    shown: shown.clone(),
                },
            )
            .build()
            .await
            .expect("the file manager service owns its name on the session bus");
        FileManagerService { connection, shown }
    }

    /// Gives up the name; once this returns, the bus has no file manager service.
    pub async fn stop(self) {
        self.connection
            .release_name("org.freedesktop.FileManager1")
            .await
            .expect("the file manager service gives up its name");
    }

    /// The file URIs of every `ShowItems` call so far, oldest first.
    pub fn shown(&self) -> Vec<Vec<String>> {
        self.shown.lock().unwrap().clone()
    }
}
