//! The first sound track of an index as a reader of its samples needs it: its timescale, its
//! sample description, and where each sample lies (what the page's demuxer walks).

use super::table::Table;
use super::tree::Atom;
use super::{child, children, sound_track};
use crate::read::be32;

/// The first sound track of an index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sound {
    /// Units per second of its times.
    pub timescale: u32,
    /// Its first sample description: the box type (`mp4a`, `alac`, `fLaC`, `Opus`, ...) and
    /// the box's payload.
    pub entry: ([u8; 4], Vec<u8>),
    pub table: Table,
    /// Its id (`tkhd`), which names it in the fragments of a fragmented file.
    pub track_id: u32,
    /// The movie extends into fragments (`mvex`) after the index: the track's defaults for
    /// them (`trex`: sample duration and size), when it does.
    pub fragments: Option<Defaults>,
}

/// A track's sample duration and size where a fragment states none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Defaults {
    pub duration: u32,
    pub size: u32,
}

/// One sample: where it lies in the file, its octets, and its duration in the timescale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    pub offset: u64,
    pub size: u32,
    pub duration: u32,
}

/// The first sound track of the index `moov` (a `moov` payload); `None` when there is none,
/// or its tables disagree.
pub fn sound(moov: &[u8]) -> Option<Sound> {
    let track = sound_track(moov)?;
    let stbl = track.stbl()?;
    let table = Table::parse(&Atom::parse(*b"stbl", stbl)?)?;
    // The description box: version and flags, an entry count, then the entries.
    let (kind, payload) = children(child(stbl, b"stsd")?.get(8..)?).next()?;
    let track_id = track_id(track.trak)?;
    let fragments = child(moov, b"mvex").map(|mvex| trex_defaults(mvex, track_id));
    Some(Sound {
        timescale: track.timescale,
        entry: (kind, payload.to_vec()),
        table,
        track_id,
        fragments,
    })
}

/// A track's id (`tkhd`).
pub(crate) fn track_id(trak: &[u8]) -> Option<u32> {
    let tkhd = child(trak, b"tkhd")?;
    // After version and flags, two times of 4 octets (version 0) or 8 (version 1).
    be32(tkhd, if tkhd.first()? == &1 { 20 } else { 12 })
}

/// The defaults of track `track_id` for the fragments of a movie that extends into them
/// (`mvex`, its payload): none stated, none.
pub(crate) fn trex_defaults(mvex: &[u8], track_id: u32) -> Defaults {
    // trex: version and flags, track id, description index, duration, size, flags.
    children(mvex)
        .filter(|(k, _)| k == b"trex")
        .find(|(_, trex)| be32(trex, 4) == Some(track_id))
        .and_then(|(_, trex)| {
            Some(Defaults {
                duration: be32(trex, 12)?,
                size: be32(trex, 16)?,
            })
        })
        .unwrap_or_default()
}
