//! Integration tests: each starts the real backend on a free loopback port with a fresh data
//! directory and talks to it over HTTP, as the app does.

mod account;
mod api;
mod auth;
mod binary;
mod common;
mod firestore;
mod worker;
