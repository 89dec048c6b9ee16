//! The commands the window may call. Each parses its arguments, calls one core function and
//! maps the error; nothing else happens here.

pub mod changes;
pub mod keys;
pub mod library;
pub mod links;
pub mod privacy;
pub mod session;
pub mod studio;
pub mod update;

/// Every command the window may call.
pub fn handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        session::app_status,
        session::sign_up,
        session::sign_in,
        session::sign_out,
        session::ledger,
        session::purchases,
        session::request_email_change,
        session::change_password,
        session::sign_out_everywhere_else,
        links::send_password_reset,
        links::pending_link,
        links::dismiss_link,
        links::reset_password,
        links::verify_email_change,
        studio::estimate,
        studio::generate,
        studio::draft,
        studio::save_draft,
        library::library,
        library::library_counts,
        library::library_item,
        library::thumbnail,
        library::sync_now,
        library::library_shown,
        library::save_clip,
        library::save_clip_to,
        library::open_clip,
        changes::delete_generations,
        changes::delete_all_history,
        changes::set_display_name,
        changes::set_analytics_opt_in,
        changes::outbox,
        changes::retry_action,
        changes::dismiss_action,
        keys::set_up_passphrase,
        keys::unlock_with_passphrase,
        keys::reset_local_copy,
        privacy::export_data,
        privacy::cancel_export,
        privacy::show_in_folder,
        privacy::access_report,
        privacy::save_receipt,
        privacy::delete_account,
        update::update_status,
        update::check_for_update,
        update::install_update,
    ]
}
