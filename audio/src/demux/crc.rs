//! The CRCs the own demuxers check (most significant bit first, initial value 0, no final
//! xor), eight octets at a time: FLAC's frame CRC-16 and Ogg's page CRC-32. Their tables (16
//! KB) are built on first use rather than shipped: tables of CRCs hardly compress, and would
//! cost the page's bundle about as much gzipped.

use std::sync::OnceLock;

/// Table `k` holds each octet's CRC followed by `k` zero octets, for generator `poly` of
/// `width` bits.
fn tables<const K: usize>(width: u32, poly: u32) -> [[u32; 256]; K] {
    let (top, mask) = (1u32 << (width - 1), u32::MAX >> (32 - width));
    let mut tables = [[0u32; 256]; K];
    for (i, entry) in tables[0].iter_mut().enumerate() {
        *entry = (0..8).fold((i as u32) << (width - 8), |crc, _| {
            (if crc & top != 0 {
                crc << 1 ^ poly
            } else {
                crc << 1
            }) & mask
        });
    }
    for k in 1..K {
        for i in 0..256 {
            let before = tables[k - 1][i];
            tables[k][i] = (before << 8 & mask) ^ tables[0][(before >> (width - 8)) as usize];
        }
    }
    tables
}

fn crc16_tables() -> &'static [[u32; 256]; 8] {
    static TABLES: OnceLock<[[u32; 256]; 8]> = OnceLock::new();
    TABLES.get_or_init(|| tables(16, 0x8005))
}

/// FLAC's CRC-16 (polynomial x^16 + x^15 + x^2 + 1) of `bytes`, continuing from `crc`.
pub fn crc16(crc: u16, bytes: &[u8]) -> u16 {
    let t = crc16_tables();
    let mut crc = u32::from(crc);
    let mut words = bytes.chunks_exact(8);
    for w in &mut words {
        let x = crc ^ (u32::from(w[0]) << 8 | u32::from(w[1]));
        crc = t[7][(x >> 8) as usize & 0xFF]
            ^ t[6][x as usize & 0xFF]
            ^ t[5][usize::from(w[2])]
            ^ t[4][usize::from(w[3])]
            ^ t[3][usize::from(w[4])]
            ^ t[2][usize::from(w[5])]
            ^ t[1][usize::from(w[6])]
            ^ t[0][usize::from(w[7])];
    }
    let crc = words.remainder().iter().fold(crc, |crc, &b| {
        (crc << 8 & 0xFFFF) ^ t[0][((crc >> 8) as u8 ^ b) as usize]
    });
    crc as u16
}

/// FLAC's CRC-16 after one more octet.
pub fn crc16_step(crc: u16, byte: u8) -> u16 {
    crc16(crc, &[byte])
}

/// Ogg's CRC-32 (polynomial 0x04C11DB7) of `bytes`, continuing from `crc`.
pub fn crc32(crc: u32, bytes: &[u8]) -> u32 {
    static TABLES: OnceLock<[[u32; 256]; 8]> = OnceLock::new();
    let t = TABLES.get_or_init(|| tables(32, 0x04C1_1DB7));
    let mut crc = crc;
    let mut words = bytes.chunks_exact(8);
    for w in &mut words {
        let x = crc ^ u32::from_be_bytes([w[0], w[1], w[2], w[3]]);
        crc = t[7][(x >> 24) as usize]
            ^ t[6][(x >> 16) as usize & 0xFF]
            ^ t[5][(x >> 8) as usize & 0xFF]
            ^ t[4][x as usize & 0xFF]
            ^ t[3][usize::from(w[4])]
            ^ t[2][usize::from(w[5])]
            ^ t[1][usize::from(w[6])]
            ^ t[0][usize::from(w[7])];
    }
    words.remainder().iter().fold(crc, |crc, &b| {
        (crc << 8) ^ t[0][((crc >> 24) as u8 ^ b) as usize]
    })
}

#[cfg(test)]
mod tests {
    use super::{crc16, crc16_step, crc32};

    #[test]
    fn check_values() {
        // CRC-16/UMTS and CRC-32/MPEG-2 without its initial and final inversion.
        assert_eq!(crc16(0, b"123456789"), 0xFEE8);
        let long = b"123456789 and some more octets than eight at a time".repeat(3);
        let bytewise = long.iter().fold(0, |c, &b| crc16_step(c, b));
        assert_eq!(crc16(0, &long), bytewise);
        assert_eq!(crc16(crc16(0, &long[..13]), &long[13..]), bytewise);
        assert_eq!(crc32(0, b"123456789"), 0x89A1_897F);
        let bytewise = long.iter().fold(0, |c, &b| crc32(c, &[b]));
        assert_eq!(crc32(0, &long), bytewise);
    }
}
