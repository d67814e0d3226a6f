//! Passwords: Argon2id, each with its own random salt, kept as a PHC string
//! (`$argon2id$v=19$m=65536,t=3,p=1$...`). The cost is RFC 9106's second recommended memory
//! (64 MiB) with three passes and one lane: above OWASP's minimum (19 MiB, two passes), which
//! takes only about 14 ms on a current core, where a sign-in may well take 50 to 250 ms. A
//! hash records its own parameters, so stronger ones later still verify older hashes.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

/// The shortest password `user add` and `user passwd` accept, in characters (OWASP).
pub const MIN_PASSWORD: usize = 8;
/// The longest password accepted, in bytes (a line of the protocol holds it).
pub const MAX_PASSWORD: usize = 512;

/// Why a password cannot be set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("a password must have at least {MIN_PASSWORD} characters")]
    TooShort,
    #[error("a password must have at most {MAX_PASSWORD} bytes")]
    TooLong,
    #[error("a password must not hold control characters")]
    ControlCharacter,
    #[error("cannot hash the password: {0}")]
    Hash(&'static str),
}

/// Whether `password` may be set (what `login` could send).
pub fn check(password: &str) -> Result<(), PasswordError> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(PasswordError::TooShort);
    }
    if password.len() > MAX_PASSWORD {
        return Err(PasswordError::TooLong);
    }
    if password.chars().any(char::is_control) {
        return Err(PasswordError::ControlCharacter);
    }
    Ok(())
}

/// Memory, in KiB, passes and lanes of a new hash.
const MEMORY_KIB: u32 = 64 * 1024;
const PASSES: u32 = 3;
const LANES: u32 = 1;

/// The PHC string of `password` with a fresh salt. Takes tens of milliseconds and 64 MiB.
pub fn hash(password: &str) -> Result<String, PasswordError> {
    check(password)?;
    let params = Params::new(MEMORY_KIB, PASSES, LANES, None)
        .map_err(|_| PasswordError::Hash("bad parameters"))?;
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|_| PasswordError::Hash("argon2 failed"))
}

/// Whether `password` is the one `phc` was made from. A malformed `phc` verifies nothing.
pub fn verify(password: &str, phc: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), phc)
        .is_ok()
}

/// A hash no password is known for, verified against when a user does not exist, so that
/// an unknown user costs the same time as a wrong password.
pub fn decoy() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| {
        let text = crate::claim::random_hex(24).unwrap_or_else(|_| "x".repeat(48));
        hash(&text).unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let phc = hash("correct horse").expect("hashes");
        assert!(phc.starts_with("$argon2id$v=19$m=65536,t=3,p=1$"), "{phc}");
        assert!(verify("correct horse", &phc));
        assert!(!verify("correct horsE", &phc));
        assert!(!verify("correct horse", "not a hash"));
        assert_ne!(hash("correct horse").expect("hashes"), phc, "salted");
        assert!(!verify("", decoy()));
    }

    #[test]
    fn bad_passwords_are_refused() {
        assert_eq!(check("short"), Err(PasswordError::TooShort));
        assert_eq!(check(&"x".repeat(513)), Err(PasswordError::TooLong));
        assert_eq!(check("tab\there!"), Err(PasswordError::ControlCharacter));
        assert_eq!(check("été en hiver"), Ok(()));
    }
}
