//! Project automation, in Rust so it needs nothing but cargo:
//!
//! - `cargo xtask run [--music DIR]`: install what is missing, build, and run the server and the
//!   bridge on the demo library (or DIR).
//! - `cargo xtask test`: install what is missing, then every check and test.
//! - `cargo xtask setup`: only install what is missing.

mod cmd;
mod run;
mod test;
mod tools;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("run") => run::run(&args[1..]),
        Some("test") => test::test(),
        Some("setup") => tools::ensure(tools::Need::Everything).map(drop),
        _ => {
            eprintln!(
                "usage: cargo xtask run [--music DIR] | cargo xtask test | cargo xtask setup"
            );
            std::process::exit(2);
        }
    }
}
