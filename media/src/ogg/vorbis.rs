//! What Vorbis headers say about packet lengths: the two block sizes (identification header)
//! and each mode's block flag (the end of the setup header), so the samples a packet adds can
//! be told from its first byte. A packet adds a quarter of its block plus a quarter of the one
//! before; the first packet a decoder sees adds nothing.

/// The block sizes and the modes' block flags of a Vorbis stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocks {
    short: u32,
    long: u32,
    /// For each mode, whether it uses the long block.
    long_modes: Vec<bool>,
}

impl Blocks {
    /// From the identification and setup header packets.
    pub fn parse(id: &[u8], setup: &[u8]) -> Option<Self> {
        if !id.starts_with(b"\x01vorbis") || !setup.starts_with(b"\x05vorbis") {
            return None;
        }
        let sizes = *id.get(28)?;
        let (short, long) = (1u32 << (sizes & 0xF), 1u32 << (sizes >> 4));
        (short <= long && long <= 8192).then_some(())?;
        Some(Self {
            short,
            long,
            long_modes: modes(setup)?,
        })
    }

    /// The block size of the audio packet that starts with `first`.
    pub fn block(&self, first: u8) -> Option<u32> {
        if first & 1 != 0 {
            return None;
        }
        let bits = ilog(self.long_modes.len() as u32 - 1);
        let mode = usize::from(first >> 1) & ((1 << bits) - 1);
        let long = *self.long_modes.get(mode)?;
        Some(if long { self.long } else { self.short })
    }

    /// Samples a packet of block `block` adds after one of block `before`.
    pub fn added(before: u32, block: u32) -> u64 {
        u64::from(before / 4 + block / 4)
    }
}

/// The number of bits needed for `n` (Vorbis's `ilog`).
fn ilog(n: u32) -> u32 {
    32 - n.leading_zeros()
}

/// The modes' block flags, read backwards from the end of the setup header: after the last
/// mode comes the framing bit; each mode is 41 bits (block flag, window type 0, transform
/// type 0, mapping), and before the first, 6 bits say how many there are, less one.
fn modes(setup: &[u8]) -> Option<Vec<bool>> {
    let last = *setup.last()?;
    if last == 0 {
        return None;
    }
    // The framing bit is the highest set bit of the last byte (bits go in from the low end).
    let framing = (setup.len() - 1) * 8 + (7 - last.leading_zeros() as usize);
    let bit = |at: usize| setup.get(at / 8).is_some_and(|b| b >> (at % 8) & 1 == 1);
    let read = |from: usize, n: usize| (0..n).fold(0u32, |v, i| v | u32::from(bit(from + i)) << i);
    let mut flags = Vec::new();
    let mut end = framing;
    while flags.len() < 64 && end >= 41 {
        let start = end - 41;
        if read(start + 1, 16) != 0 || read(start + 17, 16) != 0 {
            break;
        }
        flags.push(bit(start));
        end = start;
    }
    // The count before the modes settles how many of those really are modes.
    (1..=flags.len()).rev().find_map(|count| {
        let first = framing - 41 * count;
        (first >= 6 && read(first - 6, 6) as usize == count - 1).then(|| {
            let mut modes: Vec<bool> = flags[..count].to_vec();
            modes.reverse();
            modes
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A setup header's tail: `count` modes with these block flags, then the framing bit.
    fn setup(flags: &[bool]) -> Vec<u8> {
        let mut bits: Vec<bool> = b"\x05vorbis"
            .iter()
            .flat_map(|b| (0..8).map(move |i| b >> i & 1 == 1))
            .collect();
        bits.extend([true, false, true]); // arbitrary bits standing for the codebooks etc.
        let count = flags.len() as u32 - 1;
        bits.extend((0..6).map(|i| count >> i & 1 == 1));
        for &flag in flags {
            bits.push(flag);
            bits.extend([false; 32]);
            bits.extend((0..8).map(|i| i == 0));
        }
        bits.push(true);
        bits.chunks(8)
            .map(|c| {
                c.iter()
                    .enumerate()
                    .fold(0u8, |v, (i, &b)| v | u8::from(b) << i)
            })
            .collect()
    }

    #[test]
    fn modes_are_read_from_the_end() {
        let mut id = b"\x01vorbis".to_vec();
        id.resize(28, 0);
        id.push(0xB8); // short 256, long 2048
        let blocks = Blocks::parse(&id, &setup(&[false, true])).expect("blocks");
        assert_eq!(blocks.long_modes, [false, true]);
        // An audio packet: bit 0 clear, then one bit of mode number.
        assert_eq!(blocks.block(0b00), Some(256));
        assert_eq!(blocks.block(0b10), Some(2048));
        assert_eq!(blocks.block(0b01), None, "not an audio packet");
        assert_eq!(Blocks::added(2048, 256), 576);
    }
}
