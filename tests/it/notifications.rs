//! A stand-in for the desktop's notification service (`org.freedesktop.Notifications`) on the
//! tests' private D-Bus session (`with_secret_service` runs them under `dbus-run-session`). It
//! records what the app asks the desktop to show, so a test reads the notification a user would
//! see. Only one process may own the name, so a test holds it only while it runs.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use zbus::OwnedVariant;

/// One notification as the desktop received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    pub summary: String,
    pub body: String,
}

struct Service {
    shown: Arc<Mutex<Vec<Shown>>>,
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl Service {
    #[allow(clippy::too_many_arguments)]
    fn notify(
        &self,
        _app_name: String,
        _replaces_id: u32,
        _app_icon: String,
        summary: String,
        body: String,
        _actions: Vec<String>,
        _hints: HashMap<String, OwnedVariant>,
        _expire_timeout: i32,
    ) -> u32 {
        let mut shown = self.shown.lock().unwrap();
        shown.push(Shown { summary, body });
        shown.len() as u32
    }

    fn get_capabilities(&self) -> Vec<String> {
        vec!["body".into()]
    }

    fn get_server_information(&self) -> (String, String, String, String) {
        (
            "cleom-test-notifications".into(),
            "cleom".into(),
            "1".into(),
            "1.2".into(),
        )
    }

    fn close_notification(&self, _id: u32) {}
}

/// The notification service, registered on the session bus until dropped.
pub struct NotificationService {
    _connection: zbus::Connection,
    shown: Arc<Mutex<Vec<Shown>>>,
}

impl NotificationService {
    pub async fn start() -> NotificationService {
        let shown = Arc::new(Mutex::new(Vec::new()));
        let connection = zbus::connection::Builder::session()
            .name("org.freedesktop.Notifications")
            .serve_at(
                "/org/freedesktop/Notifications",
                Service {
                    shown: shown.clone(),
                },
            )
            .build()
            .await
            .expect("the notification service owns its name on the session bus");
        NotificationService {
            _connection: connection,
            shown,
        }
    }

    /// Every notification received so far, oldest first.
    pub fn shown(&self) -> Vec<Shown> {
        self.shown.lock().unwrap().clone()
    }
}
