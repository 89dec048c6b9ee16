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
