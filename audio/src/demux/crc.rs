//! The CRCs the own demuxers check, table-driven (most significant bit first, initial value 0,
//! no final xor): FLAC's frame CRC-16 and Ogg's page CRC-32.

/// A CRC of `WIDTH` bits with generator `poly`, as a table of 256 entries.
const fn table<const WIDTH: u32>(poly: u32) -> [u32; 256] {
    let top = 1u32 << (WIDTH - 1);
    let mask = if WIDTH == 32 {
        u32::MAX
    } else {
        (1 << WIDTH) - 1
    };
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = (i as u32) << (WIDTH - 8);
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & top != 0 {
                (crc << 1 ^ poly) & mask
            } else {
                (crc << 1) & mask
            };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
}

static CRC16: [u32; 256] = table::<16>(0x8005);
static CRC32: [u32; 256] = table::<32>(0x04C1_1DB7);

/// FLAC's CRC-16 (polynomial x^16 + x^15 + x^2 + 1) after `byte`.
pub fn crc16_step(crc: u16, byte: u8) -> u16 {
    let at = usize::from((crc >> 8) as u8 ^ byte);
    (crc << 8) ^ CRC16[at] as u16
}

/// FLAC's CRC-16 of `bytes`.
#[cfg(test)]
pub fn crc16(bytes: &[u8]) -> u16 {
    bytes.iter().fold(0, |crc, &b| crc16_step(crc, b))
}

/// Ogg's CRC-32 (polynomial 0x04C11DB7) of `bytes`, continuing from `crc`.
pub fn crc32(crc: u32, bytes: &[u8]) -> u32 {
    bytes.iter().fold(crc, |crc, &b| {
        let at = usize::from((crc >> 24) as u8 ^ b);
        (crc << 8) ^ CRC32[at]
    })
}

#[cfg(test)]
mod tests {
    use super::{crc16, crc32};

    #[test]
    fn check_values() {
        // CRC-16/UMTS and CRC-32/MPEG-2 without its initial and final inversion.
        assert_eq!(crc16(b"123456789"), 0xFEE8);
        assert_eq!(crc32(0, b"123456789"), 0x89A1_897F);
    }
}
