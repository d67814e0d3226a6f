//! The bridge's handling of a browser's text message: it either answers it itself, or forwards
//! exactly one line the server's framing accepts whole.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tapedeck_protocol::{Command, LineBuffer, MAX_LINE_LEN};

fuzz_target!(|text: &str| {
    if tapedeck_bridge::rejection(text).is_some() {
        return;
    }
    let mut lines = LineBuffer::new(MAX_LINE_LEN);
    lines.push(format!("{text}\n").as_bytes());
    let line = lines.next_line().expect("within the limit").expect("one whole line");
    assert_eq!(line, text.as_bytes());
    assert_eq!(lines.next_line(), Ok(None), "exactly one line");
    let _ = Command::parse(&line);
});
