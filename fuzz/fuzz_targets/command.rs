//! The control connection's input: line framing and command parsing never panic, respect the
//! line limit, and every command parsed prints back to the same command.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tapedeck_protocol::{Command, LineBuffer, MAX_LINE_LEN};

fuzz_target!(|data: &[u8]| {
    let mut lines = LineBuffer::new(MAX_LINE_LEN);
    for chunk in data.chunks(7) {
        lines.push(chunk);
        loop {
            match lines.next_line() {
                Ok(Some(line)) => {
                    assert!(line.len() <= MAX_LINE_LEN);
                    if let Ok(command) = Command::parse(&line) {
                        assert_eq!(Command::parse(command.to_string().as_bytes()), Ok(command));
                    }
                }
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
});
