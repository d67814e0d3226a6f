//! Administration of accounts from the command line (`tapedeck-server user ...`), straight on
//! the database file: a running server notices within [`super::POLL`].

use std::path::Path;

use tapedeck_protocol::{MAX_USER_NAME, valid_user_name};

use super::password::{self, PasswordError};
pub use crate::store::User;
use crate::store::{Store, StoreError};

/// Why an administration command failed; the message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error(
        "{0:?} cannot be a user name: 1 to {MAX_USER_NAME} letters, digits, '.', '_', '-' or '@', \
         not starting with '-'"
    )]
    InvalidName(String),
    #[error("there is already a user {0:?}")]
    Exists(String),
    #[error("there is no user {0:?}")]
    NoSuchUser(String),
    #[error(transparent)]
    Password(#[from] PasswordError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Adds the account `name` with `password` to the database at `db` (created if need be).
pub fn add_user(db: &Path, name: &str, password: &str) -> Result<(), UserError> {
    let name = checked_name(name)?;
    let hash = password::hash(password)?;
    if !Store::open(db)?.add_user(name, &hash, super::now())? {
        return Err(UserError::Exists(name.to_owned()));
    }
    Ok(())
}

/// Removes the account `name`; its sessions end.
pub fn remove_user(db: &Path, name: &str) -> Result<(), UserError> {
    if !Store::open(db)?.remove_user(name)? {
        return Err(UserError::NoSuchUser(name.to_owned()));
    }
    Ok(())
}

/// Sets `name`'s password; every session of theirs ends.
pub fn set_password(db: &Path, name: &str, password: &str) -> Result<(), UserError> {
    let hash = password::hash(password)?;
    if !Store::open(db)?.set_password(name, &hash)? {
        return Err(UserError::NoSuchUser(name.to_owned()));
    }
    Ok(())
}

/// Every account.
pub fn list_users(db: &Path) -> Result<Vec<User>, UserError> {
    Ok(Store::open(db)?.users(super::now())?)
}

fn checked_name(name: &str) -> Result<&str, UserError> {
    if valid_user_name(name) {
        Ok(name)
    } else {
        Err(UserError::InvalidName(name.to_owned()))
    }
}
