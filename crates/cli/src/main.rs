//! `cleom`: Cleom Desktop's core from a terminal.
//!
//! Why it exists: everything the app does with a user's data should also be scriptable (back up
//! the history every night, check an export, delete an account from a server without a
//! display), and a second front end keeps `cleom-core` honest about having no GUI in it. It is
//! the same core with the same data folder (`CLEOM_DATA_DIR` or the platform default) and the
//! same keychain entries as the app, so signing in here signs the app in and vice versa.
//!
//! There is no embedded backend here: the backend comes from the same variables as the app's
//! (`CLEOM_BACKEND_URL` for the one-port layout of the local backend, or `CLEOM_API_URL` with
//! `CLEOM_AUTH_URL`, `CLEOM_SECURE_TOKEN_URL`, `CLEOM_FIRESTORE_URL`, `CLEOM_PROJECT_ID` and
//! `CLEOM_API_KEY`). `cleom export verify` needs none of it.
//!
//! Exit codes: 0 done, 1 failed (including an export that does not verify), 2 usage.
//! Failures print `error[<code>]: <message>` on stderr, with the same stable codes as the app.

mod config;
mod output;

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use cleom_core::device::Device;
use cleom_core::export::{self, ExportOptions};
use cleom_core::keychain::{os::OsKeychain, Channel, KeychainState};
use cleom_core::paths::DataDir;
use cleom_core::remote::Remote;
use cleom_core::secret::SecretString;
use cleom_core::Account;

use crate::output::Progress;

#[derive(Parser)]
#[command(
    name = "cleom",
    version,
    about = "Cleom from a terminal: sign in, sync, export and verify your history, delete your account.",
    after_help = "The backend is set like the app's: CLEOM_BACKEND_URL (or CLEOM_API_URL and its companions). \
                  The data folder is CLEOM_DATA_DIR or the platform default; secrets live in the system keychain."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Sign in; the session is kept in the system keychain (shared with the app).
    SignIn(Credentials),
    /// Create a Cleom account and sign in.
    SignUp(Credentials),
    /// Forget the session on this device (the encrypted local history stays).
    SignOut,
    /// Who is signed in, where the data lives, and how much history is stored.
    Status,
    /// Bring the local history up to date with Cleom.
    Sync,
    /// Export everything to a zip (`--out FILE`), or check one (`cleom export verify FILE`).
    Export(ExportCommand),
    /// Delete the account everywhere: on Cleom's servers, on this device and in the keychain.
    DeleteAccount {
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Args)]
struct Credentials {
    #[arg(long)]
    email: String,
    /// Read the password from the first line of standard input instead of asking.
    #[arg(long)]
    password_stdin: bool,
}

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
struct ExportCommand {
    #[command(subcommand)]
    verify: Option<ExportVerify>,
    /// The zip to write; it must not exist yet.
    #[arg(long, required = true)]
    out: Option<PathBuf>,
    /// Also download and include the full video clips (resumes where a previous try stopped).
    #[arg(long)]
    include_videos: bool,
    /// Password-protect the export (AES-256); the password is asked twice.
    #[arg(long)]
    encrypt: bool,
    /// Password-protect the export (AES-256) with the first line of standard input.
    #[arg(long, conflicts_with = "encrypt")]
    password_stdin: bool,
}

#[derive(Subcommand)]
enum ExportVerify {
    /// Check an export against its manifest; exits with 1 on any difference.
    Verify {
        file: PathBuf,
        /// The export's password, from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        /// Ask for the export's password.
        #[arg(long, conflicts_with = "password_stdin")]
        password: bool,
    },
}

/// Why a command failed: a stable code, a message, and whether it was the user's usage.
struct Failure {
    code: &'static str,
    message: String,
    usage: bool,
}

impl Failure {
    fn usage(message: impl Into<String>) -> Failure {
        Failure {
            code: "usage",
            message: message.into(),
            usage: true,
        }
    }
}

impl From<cleom_core::Error> for Failure {
    fn from(e: cleom_core::Error) -> Failure {
        Failure {
            code: e.code(),
            message: e.to_string(),
            usage: false,
        }
    }
}

impl From<export::ExportError> for Failure {
    fn from(e: export::ExportError) -> Failure {
        cleom_core::Error::from(e).into()
    }
}

type Outcome = Result<(), Failure>;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help and --version.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            let rendered = e.render().to_string();
            let message = rendered.trim_start_matches("error: ").trim_end();
            eprintln!("error[usage]: {message}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error[io.failed]: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error[{}]: {}", failure.code, failure.message);
            ExitCode::from(if failure.usage { 2 } else { 1 })
        }
    }
}

async fn run(command: Command) -> Outcome {
    match command {
        Command::Export(ExportCommand {
            verify:
                Some(ExportVerify::Verify {
                    file,
                    password_stdin,
                    password,
                }),
            ..
        }) => {
            let password = verify_password(password_stdin, password)?;
            verify(&file, password.as_ref())
        }
        Command::SignIn(credentials) => sign_in(credentials).await,
        Command::SignUp(credentials) => sign_up(credentials).await,
        Command::SignOut => sign_out().await,
        Command::Status => status(),
        Command::Sync => sync().await,
        Command::Export(ExportCommand {
            out,
            include_videos,
            encrypt,
            password_stdin,
            verify: None,
        }) => {
            let out = out.ok_or_else(|| Failure::usage("--out FILE is required"))?;
            let password = export_password(password_stdin, encrypt)?;
            let account = Arc::new(signed_in(&device()?)?);
            export_to(account, out, include_videos, password).await
        }
        Command::DeleteAccount {
            password_stdin,
            yes,
        } => delete_account(password_stdin, yes).await,
    }
}

async fn sign_in(credentials: Credentials) -> Outcome {
    let password = password(credentials.password_stdin)?;
    let account = device()?.sign_in(&credentials.email, &password).await?;
    println!(
        "Signed in as {} (uid {}). The session is kept in the system keychain.",
        account.email(),
        account.uid()
    );
    Ok(())
}

async fn sign_up(credentials: Credentials) -> Outcome {
    let password = password(credentials.password_stdin)?;
    let account = device()?.sign_up(&credentials.email, &password).await?;
    println!(
        "Created and signed in to {} (uid {}).",
        account.email(),
        account.uid()
    );
    Ok(())
}

async fn sign_out() -> Outcome {
    let device = device()?;
    match device.resume()? {
        Some(account) => {
            account.end_session().await;
            device.sign_out(&account)?;
            println!("Signed out of {}.", account.email());
        }
        None => println!("Nobody is signed in."),
    }
    Ok(())
}

async fn sync() -> Outcome {
    let account = signed_in(&device()?)?;
    let report = account.sync().await?;
    println!(
        "Synced: {} generations, {} credit ledger entries and {} thumbnails updated.",
        report.generations, report.ledger_entries, report.thumbnails
    );
    Ok(())
}

/// The password of an export being checked: from standard input, asked for, or none.
fn verify_password(from_stdin: bool, ask: bool) -> Result<Option<SecretString>, Failure> {
    Ok(if from_stdin {
        Some(read_stdin_line("the export's password")?)
    } else if ask {
        Some(prompt_password("Export password: ")?)
    } else {
        None
    })
}

/// The password of a new export: from standard input, asked for twice (`encrypt`), or none.
/// Refused, before anything is downloaded, when the app would refuse it
/// ([`export::check_export_password`]).
fn export_password(from_stdin: bool, encrypt: bool) -> Result<Option<SecretString>, Failure> {
    let password = read_export_password(from_stdin, encrypt)?;
    if let Some(password) = &password {
        export::check_export_password(password.expose())?;
    }
    Ok(password)
}

fn read_export_password(from_stdin: bool, encrypt: bool) -> Result<Option<SecretString>, Failure> {
    Ok(if from_stdin {
        Some(read_stdin_line("the export password")?)
    } else if encrypt {
        let first = prompt_password("Export password: ")?;
        let again = prompt_password("The same password again: ")?;
        if first.expose() != again.expose() {
            return Err(Failure::usage("the two passwords differ"));
        }
        Some(first)
    } else {
        None
    })
}

fn device() -> Result<Device, Failure> {
    let endpoints = config::endpoints_from_env()?;
    let remote = Remote::new(endpoints).map_err(cleom_core::Error::from)?;
    let data = DataDir::from_env_or_default().map_err(cleom_core::Error::from)?;
    let keychain = Arc::new(OsKeychain::new(Channel::current(), &data));
    Ok(Device::new(data, keychain, remote)?)
}

fn signed_in(device: &Device) -> Result<Account, Failure> {
    device
        .resume()?
        .ok_or_else(|| cleom_core::Error::NotSignedIn.into())
}

fn status() -> Outcome {
    let device = device()?;
    let data = device.data_dir().root().display().to_string();
    let keychain = match device.keychain_state() {
        KeychainState::Available => "available".to_string(),
        KeychainState::Locked => "locked".to_string(),
        KeychainState::Unavailable { reason } => format!("unavailable ({reason})"),
        KeychainState::Passphrase { .. } => {
            "passphrase mode (the app's; cleom uses the system keychain only)".to_string()
        }
    };
    println!("Data folder: {data}");
    println!("Backend: {}", config::describe_backend());
    println!("Keychain: {keychain}");
    let Some(account) = device.resume()? else {
        println!("Nobody is signed in.");
        return Ok(());
    };
    println!("Signed in as {} (uid {})", account.email(), account.uid());
    if let Some(profile) = account.profile()? {
        println!("Credit balance: {}", profile.credit_balance);
    }
    let page = account.library(1, None)?;
    let newest = page
        .items
        .first()
        .map(|i| i.generation.created_at.as_str())
        .unwrap_or("none");
    println!("Newest generation: {newest}");
    Ok(())
}

async fn export_to(
    account: Arc<Account>,
    out: PathBuf,
    include_videos: bool,
    password: Option<SecretString>,
) -> Outcome {
    let cancel = Arc::new(AtomicBool::new(false));
    let on_interrupt = Arc::clone(&cancel);
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            on_interrupt.store(true, Ordering::Relaxed);
        }
    });
    let progress = Arc::new(Progress::new(std::io::stderr().is_terminal()));
    let report = Arc::clone(&progress);
    let options = ExportOptions {
        include_videos,
        password,
        only: None,
    };
    let result = account
        .export_to(out, options, Arc::new(move |p| report.show(p)), cancel)
        .await;
    progress.clear();
    let summary = result?;
    let c = summary.counts;
    println!(
        "Exported {} generations, {} credit ledger entries, {} thumbnails and {} videos to {} ({}){}.",
        c.generations,
        c.credit_ledger_entries,
        c.thumbnails,
        c.videos,
        summary.path.display(),
        output::size(summary.bytes),
        if summary.encrypted {
            ", password-protected (AES-256)"
        } else {
            ""
        }
    );
    Ok(())
}

fn verify(file: &std::path::Path, password: Option<&SecretString>) -> Outcome {
    let report = export::verify(file, password)?;
    if report.is_ok() {
        println!(
            "OK: {} files match the manifest of {} (exported {}, {} generations, {} media files{}).",
            report.files_checked,
            file.display(),
            report.exported_at,
            report.counts.generations,
            report.counts.media_files,
            if report.encrypted {
                ", password-protected"
            } else {
                ""
            }
        );
        return Ok(());
    }
    for problem in &report.problems {
        println!("MISMATCH {problem}");
    }
    Err(Failure {
        code: "export.verify_failed",
        message: format!(
            "{} does not match its manifest: {} problem{} (listed above)",
            file.display(),
            report.problems.len(),
            if report.problems.len() == 1 { "" } else { "s" }
        ),
        usage: false,
    })
}

async fn delete_account(password_stdin: bool, yes: bool) -> Outcome {
    let device = device()?;
    let account = signed_in(&device)?;
    let password = password(password_stdin)?;
    if !yes {
        let stdin = std::io::stdin();
        if !stdin.is_terminal() {
            return Err(Failure::usage(
                "deleting an account needs a confirmation: run it in a terminal, or add --yes",
            ));
        }
        eprint!(
            "This deletes {} and its whole history on Cleom's servers and on this device, for good.\n\
             Type the account's email to confirm: ",
            account.email()
        );
        let _ = std::io::stderr().flush();
        let mut typed = String::new();
        stdin
            .lock()
            .read_line(&mut typed)
            .map_err(cleom_core::Error::from)?;
        if typed.trim() != account.email() {
            return Err(Failure::usage(
                "that is not the account's email; nothing was deleted",
            ));
        }
    }
    let receipt = account.delete(&password).await?;
    let r = &receipt.removed;
    println!(
        "Deleted {} at {}: on the server {} generations, {} credit ledger entries, {} purchases and {} media files; on this device {} files and {} keychain entries.",
        receipt.email,
        receipt.deleted_at,
        r.generations,
        r.ledger_entries,
        r.purchases,
        r.media_files,
        r.local_files,
        r.keychain_entries
    );
    Ok(())
}

/// The account password: from stdin with `--password-stdin`, else asked on the terminal.
fn password(from_stdin: bool) -> Result<SecretString, Failure> {
    if from_stdin {
        read_stdin_line("the password")
    } else {
        prompt_password("Password: ")
    }
}

fn prompt_password(prompt: &str) -> Result<SecretString, Failure> {
    if !std::io::stdin().is_terminal() {
        return Err(Failure::usage(
            "there is no terminal to ask for a password: pass it on standard input with --password-stdin",
        ));
    }
    let password = rpassword::prompt_password(prompt).map_err(cleom_core::Error::from)?;
    non_empty(SecretString::new(password))
}

/// The first line of standard input, without its line break.
fn read_stdin_line(what: &str) -> Result<SecretString, Failure> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(cleom_core::Error::from)?;
    let trimmed = SecretString::new(line.trim_end_matches(['\r', '\n']).to_string());
    // Overwrite the buffer that held the line too.
    drop(SecretString::new(line));
    non_empty(trimmed).map_err(|_| Failure::usage(format!("{what} is missing from standard input")))
}

fn non_empty(password: SecretString) -> Result<SecretString, Failure> {
    if password.expose().is_empty() {
        Err(Failure::usage("the password is empty"))
    } else {
        Ok(password)
    }
}
