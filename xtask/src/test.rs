//! `cargo xtask test`: every gate and every test, in the order that fails fastest.

use crate::cmd::{self, cargo, repo};
use crate::run::build_page;
use crate::tools::{self, Need};

/// Crates built for the browser, checked with clippy for wasm32 too.
const WASM_CRATES: &[&str] = &[
    "tapedeck-protocol",
    "tapedeck-media",
    "tapedeck-audio",
    "tapedeck-web",
];

pub fn test() -> anyhow::Result<()> {
    let tools = tools::ensure(Need::Everything)?;
    cmd::run(cargo().args(["fmt", "--all", "--check"]))?;
    cmd::run(cargo().args([
        "clippy",
        "--locked",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    let mut wasm_clippy = cargo();
    wasm_clippy.args([
        "clippy",
        "--locked",
        "--target",
        "wasm32-unknown-unknown",
        "--lib",
        "--bins",
    ]);
    for krate in WASM_CRATES {
        wasm_clippy.args(["-p", krate]);
    }
    cmd::run(wasm_clippy.args(["--", "-D", "warnings"]))?;
    cmd::run(cargo().args([
        "clippy",
        "--locked",
        "--target",
        "wasm32-unknown-unknown",
        "-p",
        "tapedeck-web",
        "--tests",
        "--",
        "-D",
        "warnings",
    ]))?;
    build_page(&tools.path)?;
    cmd::run(cargo().args(["build", "--locked", "--bins"]))?;
    cmd::run(
        cargo()
            .args(["test", "--locked"])
            .env("TAPEDECK_DIST", repo().join("dist")),
    )?;
    cmd::run(
        cargo()
            .args([
                "test",
                "--locked",
                "--target",
                "wasm32-unknown-unknown",
                "-p",
                "tapedeck-web",
            ])
            .env("CHROMEDRIVER", chromedriver())
            // The player's ten-minute memory test renders for about 10 s; the default is 20 s.
            .env("WASM_BINDGEN_TEST_TIMEOUT", "180")
            .env("PATH", &tools.path),
    )?;
    eprintln!("\nAll checks and tests passed.");
    Ok(())
}

/// Debian's chromedriver, unless `CHROMEDRIVER` says otherwise.
fn chromedriver() -> String {
    std::env::var("CHROMEDRIVER").ok().unwrap_or_else(|| {
        cmd::which("chromedriver").unwrap_or_else(|| "/usr/bin/chromedriver".into())
    })
}
