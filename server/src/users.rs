//! `tapedeck-server user add|remove|passwd|list`: accounts from the command line (the binary's
//! module; the library's `accounts` does the work).

use std::io::{BufRead, IsTerminal};
use std::path::Path;

use anyhow::Context as _;
use clap::Subcommand;
use tapedeck_server::accounts;

/// What to do with accounts.
#[derive(Debug, Subcommand)]
pub enum Action {
    /// Add an account; the password is read from standard input (one line), or asked for
    /// on a terminal.
    Add { name: String },
    /// Remove an account: its sessions end at once.
    Remove { name: String },
    /// Change an account's password (read like `add`): its sessions end at once.
    Passwd { name: String },
    /// List the accounts.
    List,
}

pub fn run(db: &Path, action: &Action) -> anyhow::Result<()> {
    match action {
        Action::Add { name } => {
            let password = read_password(name)?;
            accounts::add_user(db, name, &password)?;
            println!("added {name} to {}", db.display());
        }
        Action::Remove { name } => {
            accounts::remove_user(db, name)?;
            println!("removed {name}");
        }
        Action::Passwd { name } => {
            let password = read_password(name)?;
            accounts::set_password(db, name, &password)?;
            println!("changed the password of {name}; their sessions have ended");
        }
        Action::List => {
            for user in accounts::list_users(db)? {
                println!("{}\t{} session(s)", user.name, user.sessions);
            }
        }
    }
    Ok(())
}

/// One line of standard input without its line end, or a password typed at a terminal (twice,
/// without echo).
fn read_password(name: &str) -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!("Password for {name}: "))?;
        let again = rpassword::prompt_password("Again: ")?;
        anyhow::ensure!(first == again, "the two passwords differ");
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    let password = line.strip_suffix('\n').unwrap_or(&line);
    Ok(password.strip_suffix('\r').unwrap_or(password).to_owned())
}
