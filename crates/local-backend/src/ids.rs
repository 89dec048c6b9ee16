//! Random identifiers and secrets, all from the operating system-seeded CSPRNG (`rand::rng()`),
//! and the digest under which tokens are stored: the database never holds a usable token.

use rand::distr::Alphanumeric;
use rand::Rng as _;
use sha2::{Digest as _, Sha256};

pub(crate) fn random_alphanumeric(len: usize) -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// A user id shaped like Firebase's: 28 alphanumeric characters.
pub(crate) fn new_uid() -> String {
    random_alphanumeric(28)
}

/// A document id shaped like Firestore's automatic ids: 20 alphanumeric characters.
pub(crate) fn new_document_id() -> String {
    random_alphanumeric(20)
}

/// An opaque bearer secret (ID token, refresh token, media token): 256+ bits of entropy.
pub(crate) fn new_secret() -> String {
    random_alphanumeric(48)
}

pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    rand::rng().fill(&mut bytes[..]);
    bytes
}

/// What is stored in place of a token.
pub(crate) fn token_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Media tokens are what [`new_secret`] makes; anything else cannot name a media folder.
pub(crate) fn is_media_token(text: &str) -> bool {
    text.len() == 48 && text.bytes().all(|b| b.is_ascii_alphanumeric())
}
