//! Line framing: splits a byte stream into LF-terminated lines of bounded length.

/// The peer sent more than [`crate::MAX_LINE_LEN`] bytes without a line feed.
///
/// Not recoverable: the server cannot know where the next command starts, so it answers
/// `error line too long` and closes the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("line too long")]
pub struct LineTooLong;

/// Accumulates bytes and hands out complete lines, never holding more than `max_len + 1` bytes
/// of an unfinished line.
#[derive(Debug, Default)]
pub struct LineBuffer {
    /// Bytes received but not yet returned as a line.
    buf: Vec<u8>,
    /// Longest line accepted, excluding the terminator.
    max_len: usize,
}

impl LineBuffer {
    /// A buffer accepting lines of at most `max_len` bytes (excluding LF or CRLF).
    pub fn new(max_len: usize) -> Self {
        Self {
            buf: Vec::new(),
            max_len,
        }
    }

    /// How many more bytes the caller may push before the buffer must be drained with
    /// [`LineBuffer::next_line`]. Reading at most this much keeps memory bounded.
    pub fn room(&self) -> usize {
        (self.max_len + 2).saturating_sub(self.buf.len()).max(1)
    }

    /// Appends received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Takes the next complete line without its LF (and without a CR before it).
    ///
    /// `Ok(None)` means more bytes are needed. Once this returns [`LineTooLong`] the stream is
    /// unusable and the buffer's content is unspecified.
    pub fn next_line(&mut self) -> Result<Option<Vec<u8>>, LineTooLong> {
        let Some(end) = self.buf.iter().position(|&b| b == b'\n') else {
            // Too long as soon as no EOL can make it fit: max + 1 octets whose last is not
            // CR (a CR there may be the start of CR LF), or max + 2.
            let over = self.buf.len() > self.max_len + 1
                || self.buf.len() == self.max_len + 1 && self.buf.last() != Some(&b'\r');
            return if over { Err(LineTooLong) } else { Ok(None) };
        };
        let mut line: Vec<u8> = self.buf.drain(..=end).collect();
        line.pop();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        if line.len() > self.max_len {
            return Err(LineTooLong);
        }
        Ok(Some(line))
    }

    /// Whether bytes of an unfinished line are waiting.
    pub fn has_partial_line(&self) -> bool {
        !self.buf.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(max: usize, chunks: &[&[u8]]) -> Result<Vec<Vec<u8>>, LineTooLong> {
        let mut lb = LineBuffer::new(max);
        let mut out = Vec::new();
        for chunk in chunks {
            lb.push(chunk);
            while let Some(line) = lb.next_line()? {
                out.push(line);
            }
        }
        Ok(out)
    }

    #[test]
    fn splits_lf_and_crlf() {
        let got = lines(16, &[b"list\r\nplay 1\nst", b"op\n"]);
        assert_eq!(
            got,
            Ok(vec![b"list".to_vec(), b"play 1".to_vec(), b"stop".to_vec()])
        );
    }

    #[test]
    fn empty_lines_are_lines() {
        assert_eq!(lines(16, &[b"\n\r\n"]), Ok(vec![vec![], vec![]]));
    }

    #[test]
    fn exactly_max_is_accepted_and_one_more_is_not() {
        assert_eq!(lines(4, &[b"abcd\n"]), Ok(vec![b"abcd".to_vec()]));
        assert_eq!(lines(4, &[b"abcd\r\n"]), Ok(vec![b"abcd".to_vec()]));
        assert_eq!(lines(4, &[b"abcde\n"]), Err(LineTooLong));
        assert_eq!(lines(4, &[b"abc", b"def"]), Err(LineTooLong));
    }

    #[test]
    fn a_full_line_and_cr_waits_for_its_lf() {
        let mut lb = LineBuffer::new(4);
        lb.push(b"abcd\r");
        assert_eq!(lb.next_line(), Ok(None), "CR LF may follow");
        lb.push(b"\n");
        assert_eq!(lb.next_line(), Ok(Some(b"abcd".to_vec())));
        assert_eq!(lines(4, &[b"abcd\r", b"x"]), Err(LineTooLong));
        assert_eq!(lines(4, &[b"abcde"]), Err(LineTooLong), "known at once");
        assert_eq!(lines(4, &[b"abcd\r\r\n"]), Err(LineTooLong));
    }

    #[test]
    fn room_bounds_the_buffer() {
        let mut lb = LineBuffer::new(8);
        assert_eq!(lb.room(), 10);
        lb.push(b"12345");
        assert_eq!(lb.room(), 5);
        assert!(lb.has_partial_line());
    }
}
