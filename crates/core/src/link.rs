//! The links Cleom's emails carry, as the app opens them: `cleom://auth/action?mode=…&oobCode=…`.
//!
//! A link reaches the app from outside (a mail client, a browser, `xdg-open`, a second launch's
//! command line), so anyone can hand it anything. It is parsed here, by one pure function, before
//! anything acts on it: only the two actions the app asks Firebase for are known
//! (`resetPassword` for "Forgot password?", `verifyAndChangeEmail` for an email change), the
//! action code must look like one, and everything else is a typed error the UI shows without
//! doing anything else. The Auth emulator's own links
//! (`http://127.0.0.1:9099/emulator/action?mode=…&oobCode=…&apiKey=…`) are accepted too, from
//! loopback only, so a code from the emulator's listing can be pasted or passed on the command
//! line while testing.
//!
//! The action code is a credential (a reset code sets the account's password), so it is held in
//! a [`SecretString`] from the moment it is read.

use reqwest::Url;

use crate::secret::SecretString;

/// The scheme the app registers with the system.
pub const SCHEME: &str = "cleom";

/// The longest link accepted, in bytes. Firebase's action links are under 400 bytes; a limit
/// keeps a hostile "link" from being copied around and logged.
pub const MAX_LINK_BYTES: usize = 2048;

/// The longest action code accepted (the local backend's are 54 characters, Firebase's fewer
/// than 100).
const MAX_CODE_CHARS: usize = 256;

/// What a link asks the app to do.
#[derive(Debug)]
pub enum Link {
    /// Choose a new password with this code (`mode=resetPassword`).
    ResetPassword { oob_code: SecretString },
    /// Make the address this code was sent to the sign-in email (`mode=verifyAndChangeEmail`).
    VerifyEmailChange { oob_code: SecretString },
}

impl Link {
    /// The action, as the UI names it.
    pub fn action(&self) -> &'static str {
        match self {
            Link::ResetPassword { .. } => "resetPassword",
            Link::VerifyEmailChange { .. } => "verifyEmail",
        }
    }

    /// The action code the link carries.
    pub fn oob_code(&self) -> &SecretString {
        match self {
            Link::ResetPassword { oob_code } | Link::VerifyEmailChange { oob_code } => oob_code,
        }
    }
}

/// Why a link was not opened. Messages never repeat the link (it may hold a code or markup).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("This is not a Cleom link.")]
    UnknownScheme,
    #[error("This Cleom link is not one this version of Cleom Desktop can open.")]
    UnknownAction,
    #[error("This Cleom link asks for something Cleom Desktop does not do.")]
    UnknownMode,
    #[error("This link is incomplete: its code is missing. Open the whole link from the email.")]
    MissingCode,
    #[error("This link is too long to be a Cleom link.")]
    TooLong,
    #[error("This link is damaged: it holds text a Cleom link never has.")]
    Malformed,
}

impl LinkError {
    /// A stable code the UI switches on.
    pub fn code(&self) -> &'static str {
        match self {
            LinkError::UnknownScheme => "link.unknown_scheme",
            LinkError::UnknownAction => "link.unknown_action",
            LinkError::UnknownMode => "link.unknown_mode",
            LinkError::MissingCode => "link.missing_code",
            LinkError::TooLong => "link.too_long",
            LinkError::Malformed => "link.malformed",
        }
    }
}

/// Parses a link: `cleom://auth/action?mode=…&oobCode=…` (other parameters, such as `lang`,
/// `apiKey` or `continueUrl`, are allowed and ignored), or the Auth emulator's
/// `http://127.0.0.1:PORT/emulator/action?…` (or `localhost`).
pub fn parse(text: &str) -> Result<Link, LinkError> {
    let text = text.trim();
    if text.len() > MAX_LINK_BYTES {
        return Err(LinkError::TooLong);
    }
    let url = Url::parse(text).map_err(|_| {
        if text.contains("://") {
            LinkError::Malformed
        } else {
            LinkError::UnknownScheme
        }
    })?;
    let is_action = match url.scheme() {
        SCHEME => url.host_str() == Some("auth") && url.path() == "/action",
        "http" | "https" => {
            let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
            if !loopback {
                return Err(LinkError::UnknownScheme);
            }
            url.path() == "/emulator/action"
        }
        _ => return Err(LinkError::UnknownScheme),
    };
    if !is_action || url.fragment().is_some() || !url.username().is_empty() {
        return Err(LinkError::UnknownAction);
    }
    let mut mode = None;
    let mut code = None;
    for (name, value) in url.query_pairs() {
        // Decoding replaces bytes that are not UTF-8 with U+FFFD, which no real link holds.
        let plain = |s: &str| {
            !s.chars()
                .any(|c| c == '\u{FFFD}' || c.is_control() || "<>\"'`".contains(c))
        };
        if !plain(name.as_ref()) || !plain(value.as_ref()) {
            return Err(LinkError::Malformed);
        }
        let slot = match name.as_ref() {
            "mode" => &mut mode,
            "oobCode" => &mut code,
            _ => continue,
        };
        // The same parameter twice: which one would the user have meant?
        if slot.replace(value.into_owned()).is_some() {
            return Err(LinkError::Malformed);
        }
    }
    let code = match code {
        Some(code) if !code.is_empty() => code,
        _ => return Err(LinkError::MissingCode),
    };
    let code_like = code.len() <= MAX_CODE_CHARS
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !code_like {
        return Err(LinkError::Malformed);
    }
    let oob_code = SecretString::new(code);
    match mode.as_deref() {
        Some("resetPassword") => Ok(Link::ResetPassword { oob_code }),
        Some("verifyAndChangeEmail") => Ok(Link::VerifyEmailChange { oob_code }),
        _ => Err(LinkError::UnknownMode),
    }
}

/// The link a launch was given on its command line (`args` as `std::env::args`, the program
/// first): its one argument, when that looks like a link at all (`scheme://…`). A system opens
/// a `cleom:` link by starting the app with the link as its only argument.
pub fn from_args<S: AsRef<str>>(args: &[S]) -> Option<Result<Link, LinkError>> {
    match args {
        [_, only] if only.as_ref().contains("://") => Some(parse(only.as_ref())),
        _ => None,
    }
}

/// The action link the local backend puts in an email (as Firebase's action-URL setting makes
/// a project's links point at its handler): `cleom://auth/action?mode={mode}&oobCode={code}`.
pub fn action_link(mode: &str, oob_code: &str) -> String {
    let mut url = Url::parse("cleom://auth/action").expect("a constant URL");
    url.query_pairs_mut()
        .append_pair("mode", mode)
        .append_pair("oobCode", oob_code)
        .append_pair("lang", "en");
    url.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code_of(link: Link) -> (&'static str, String) {
        (link.action(), link.oob_code().expose().clone())
    }

    #[test]
    fn the_two_actions_open_with_their_code() {
        let reset = parse("cleom://auth/action?mode=resetPassword&oobCode=Ab_9-z&lang=en").unwrap();
        assert_eq!(code_of(reset), ("resetPassword", "Ab_9-z".to_string()));
        let verify =
            parse(" cleom://auth/action?oobCode=XYZ&mode=verifyAndChangeEmail&apiKey=k\n").unwrap();
        assert_eq!(code_of(verify), ("verifyEmail", "XYZ".to_string()));
    }

    #[test]
    fn the_auth_emulators_links_are_accepted_from_loopback_only() {
        let emulator = "http://127.0.0.1:9099/emulator/action?mode=resetPassword&lang=en&oobCode=c0de&apiKey=fake-api-key";
        assert_eq!(code_of(parse(emulator).unwrap()).1, "c0de");
        let localhost = "http://localhost:9099/emulator/action?mode=verifyAndChangeEmail&oobCode=c";
        assert_eq!(code_of(parse(localhost).unwrap()).0, "verifyEmail");
        let elsewhere = "https://evil.example/emulator/action?mode=resetPassword&oobCode=c";
        assert_eq!(parse(elsewhere).unwrap_err(), LinkError::UnknownScheme);
    }

    #[test]
    fn the_backends_links_parse_back() {
        let link = action_link("resetPassword", "abc123");
        assert_eq!(
            link,
            "cleom://auth/action?mode=resetPassword&oobCode=abc123&lang=en"
        );
        assert_eq!(code_of(parse(&link).unwrap()).1, "abc123");
    }

    #[test]
    fn anything_else_is_a_typed_error() {
        let long = format!(
            "cleom://auth/action?mode=resetPassword&oobCode={}",
            "a".repeat(MAX_LINK_BYTES)
        );
        let long_code = format!(
            "cleom://auth/action?mode=resetPassword&oobCode={}",
            "a".repeat(MAX_CODE_CHARS + 1)
        );
        let cases = [
            ("mailto:ada@example.com", "link.unknown_scheme"),
            (
                "https://cleomai.com/auth/action?mode=resetPassword&oobCode=c",
                "link.unknown_scheme",
            ),
            ("not a link", "link.unknown_scheme"),
            ("", "link.unknown_scheme"),
            ("cleom://library/open?id=1", "link.unknown_action"),
            (
                "cleom://auth/other?mode=resetPassword&oobCode=c",
                "link.unknown_action",
            ),
            (
                "cleom://auth/action?mode=resetPassword&oobCode=c#x",
                "link.unknown_action",
            ),
            (
                "cleom://auth/action?mode=signIn&oobCode=c",
                "link.unknown_mode",
            ),
            ("cleom://auth/action?oobCode=c", "link.unknown_mode"),
            (
                "cleom://auth/action?mode=resetPassword",
                "link.missing_code",
            ),
            (
                "cleom://auth/action?mode=resetPassword&oobCode=",
                "link.missing_code",
            ),
            (long.as_str(), "link.too_long"),
            (long_code.as_str(), "link.malformed"),
            (
                "cleom://auth/action?mode=resetPassword&oobCode=%FF%FE",
                "link.malformed",
            ),
            (
                "cleom://auth/action?mode=resetPassword&oobCode=<b>x</b>",
                "link.malformed",
            ),
            (
                "cleom://auth/action?mode=resetPassword&oobCode=a%3Cscript%3E",
                "link.malformed",
            ),
            (
                "cleom://auth/action?mode=resetPassword&oobCode=c&lang=%3Ci%3E",
                "link.malformed",
            ),
            (
                "cleom://auth/action?mode=resetPassword&oobCode=a%20b",
                "link.malformed",
            ),
            (
                "cleom://auth/action?mode=resetPassword&oobCode=c&oobCode=d",
                "link.malformed",
            ),
            (
                "cleom://auth/action?mode=resetPassword&oobCode=c%00",
                "link.malformed",
            ),
            ("cleom://[auth/action", "link.malformed"),
        ];
        for (text, code) in cases {
            let err = parse(text).unwrap_err();
            assert_eq!(err.code(), code, "{text:?}");
            assert!(!err.to_string().contains('<'), "{err}");
        }
    }

    #[test]
    fn a_launch_carries_a_link_only_as_its_one_argument() {
        let program = "/usr/bin/cleom-desktop";
        assert!(from_args(&[program]).is_none());
        assert!(from_args(&[program, "--verbose"]).is_none());
        let link = "cleom://auth/action?mode=resetPassword&oobCode=c";
        assert!(from_args(&[program, link, "extra"]).is_none());
        assert_eq!(
            from_args(&[program, link]).unwrap().unwrap().action(),
            "resetPassword"
        );
        assert_eq!(
            from_args(&[program, "cleom://auth/action?mode=x&oobCode=c"])
                .unwrap()
                .unwrap_err(),
            LinkError::UnknownMode
        );
    }
}
