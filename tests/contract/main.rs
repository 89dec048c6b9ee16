//! The backend contract, run twice: against the embedded local backend, and against Google's
//! own Firebase Auth and Firestore emulators (loaded with the repo's `firestore.rules`) with the
//! Cleom API in front of them. The same test functions, through the app's own clients
//! (`cleom_core::remote`), so "the local backend behaves like Firebase" is checked rather than
//! assumed, and so is every rule in `firestore.rules`.
//!
//! A plain binary (`harness = false`) because the targets are expensive to start and shared by
//! all tests: it prints a line per test and exactly one summary line per target,
//!
//! ```text
//! contract-local: N passed, M failed
//! contract-emulators: N passed, M failed
//! ```
//!
//! and exits non-zero if any test failed. When Java, the Firestore emulator jar, Node.js or
//! firebase-tools is missing, the emulator run prints `contract-emulators: SKIPPED — <reason>`
//! in a loud banner and does not fail — unless `CLEOM_REQUIRE_EMULATORS=1` (set by
//! `scripts/test-all.sh`), which makes that a failure.
//!
//! Arguments that do not start with `-` filter tests by name; `CLEOM_CONTRACT_TARGETS=local`
//! (or `emulators`) runs one target only.

mod support;
mod targets;

mod api;
mod auth;
mod credentials;
mod devices;
mod firestore;
mod session;
mod sync;

use std::future::Future;
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::Outcome;
use targets::{Emulators, Target, Unavailable};

/// A test never runs longer than this.
const TEST_TIMEOUT: Duration = Duration::from_secs(90);

type TestFn = fn(Arc<Target>) -> Pin<Box<dyn Future<Output = Outcome> + Send>>;

macro_rules! tests {
    ($($module:ident :: $test:ident),* $(,)?) => {
        vec![$((
            concat!(stringify!($module), "::", stringify!($test)),
            (|target| Box::pin($module::$test(target))) as TestFn,
        )),*]
    };
}

fn all_tests() -> Vec<(&'static str, TestFn)> {
    tests![
        auth::sign_up_sign_in_refresh_and_lookup,
        auth::errors_have_stable_codes,
        auth::profile_email_and_password_changes,
        auth::password_reset_never_reveals_accounts,
        auth::deleting_the_user_ends_its_sessions,
        credentials::an_email_change_is_verified_by_a_link_then_applied,
        credentials::bad_codes_and_taken_addresses_are_refused,
        credentials::a_password_change_keeps_this_device_signed_in,
        credentials::a_reset_link_sets_the_new_password_and_signs_in,
        firestore::typed_values_round_trip,
        firestore::users_read_only_their_own_tree,
        firestore::clients_cannot_write_server_fields,
        firestore::clients_edit_their_profile_with_the_request_time,
        firestore::preconditions_and_atomic_commits,
        firestore::queries_filter_order_and_page_with_cursors,
        firestore::lists_page_with_tokens,
        api::pricing_and_who_may_call,
        api::a_generation_is_charged_once_per_id,
        api::invalid_requests_and_insufficient_credits_change_nothing,
        api::the_worker_delivers_media_that_downloads_with_resume,
        api::cancel_refunds_once,
        api::deleting_a_generation_leaves_a_tombstone,
        api::deleting_the_account_cascades,
        session::a_full_app_session_logs_no_secret,
        devices::each_device_reports_its_session_and_the_account_lists_them,
        devices::signing_out_everywhere_else_ends_every_other_session,
        sync::pull_is_paged_incremental_and_stops_at_the_profile,
    ]
}

struct Tally {
    passed: usize,
    failed: usize,
}

async fn run_target(target: Target, tests: &[(&'static str, TestFn)]) -> Tally {
    let target = Arc::new(target);
    let mut tally = Tally {
        passed: 0,
        failed: 0,
    };
    for (name, test) in tests {
        let started = Instant::now();
        let outcome = match target.reset().await {
            Err(e) => Err(format!("could not reset the target: {e}")),
            Ok(()) => {
                let running =
                    tokio::spawn(tokio::time::timeout(TEST_TIMEOUT, test(target.clone())));
                match running.await {
                    Ok(Ok(Ok(()))) => Ok(()),
                    Ok(Ok(Err(e))) => Err(e.to_string()),
                    Ok(Err(_)) => Err(format!("timed out after {TEST_TIMEOUT:?}")),
                    Err(e) if e.is_panic() => Err(format!("panicked: {e}")),
                    Err(e) => Err(e.to_string()),
                }
            }
        };
        let elapsed = started.elapsed().as_millis();
        match outcome {
            Ok(()) => {
                tally.passed += 1;
                println!("contract-{} {name} ... ok ({elapsed} ms)", target.name);
            }
            Err(reason) => {
                tally.failed += 1;
                println!(
                    "contract-{} {name} ... FAILED ({elapsed} ms)\n    {reason}",
                    target.name
                );
            }
        }
    }
    tally
}

fn banner(text: &str) {
    let rule = "!".repeat(78);
    println!("{rule}\n!! {text}\n{rule}");
}

async fn run(filters: Vec<String>, targets: Vec<String>) -> bool {
    let tests: Vec<(&'static str, TestFn)> = all_tests()
        .into_iter()
        .filter(|(name, _)| filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str())))
        .collect();
    let wanted = |name: &str| targets.is_empty() || targets.iter().any(|t| t == name);
    let require_emulators = std::env::var("CLEOM_REQUIRE_EMULATORS").is_ok_and(|v| v == "1");
    let mut ok = true;

    // The emulators boot (seconds) while the local run goes on.
    let emulators = wanted("emulators").then(Emulators::start);

    if wanted("local") {
        let tally = match Target::local().await {
            Ok(target) => run_target(target, &tests).await,
            Err(e) => {
                println!("contract-local: cannot start: {e}");
                Tally {
                    passed: 0,
                    failed: tests.len().max(1),
                }
            }
        };
        println!(
            "contract-local: {} passed, {} failed",
            tally.passed, tally.failed
        );
        ok &= tally.failed == 0;
    }

    match emulators {
        None => {}
        Some(Err(Unavailable(reason))) => {
            if require_emulators {
                banner(&format!("contract-emulators: CANNOT RUN — {reason}"));
                println!(
                    "contract-emulators: 0 passed, {} failed",
                    tests.len().max(1)
                );
                ok = false;
            } else {
                banner(&format!("contract-emulators: SKIPPED — {reason}"));
            }
        }
        Some(Ok(mut emulators)) => {
            let tally = match emulators.wait_ready().await {
                Err(e) => {
                    println!("contract-emulators: the emulators did not start: {e}");
                    Tally {
                        passed: 0,
                        failed: tests.len().max(1),
                    }
                }
                Ok(waited) => {
                    println!(
                        "contract-emulators: Auth on {}, Firestore on {} (ready after {} ms more)",
                        emulators.auth_url(),
                        emulators.firestore_url(),
                        waited.as_millis()
                    );
                    match Target::emulators(&emulators).await {
                        Ok(target) => run_target(target, &tests).await,
                        Err(e) => {
                            println!("contract-emulators: {e}");
                            Tally {
                                passed: 0,
                                failed: tests.len().max(1),
                            }
                        }
                    }
                }
            };
            tokio::task::spawn_blocking(move || emulators.stop())
                .await
                .ok();
            println!(
                "contract-emulators: {} passed, {} failed",
                tally.passed, tally.failed
            );
            ok &= tally.failed == 0;
        }
    }
    ok
}

fn main() -> ExitCode {
    support::logs::install();
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let targets: Vec<String> = std::env::var("CLEOM_CONTRACT_TARGETS")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    if runtime.block_on(run(filters, targets)) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
