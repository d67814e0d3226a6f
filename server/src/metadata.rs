//! Reads one file's tags and audio properties with lofty.

use std::error::Error as _;
use std::path::Path;

use lofty::file::{AudioFile, TaggedFileExt};
use lofty::probe::Probe;
use lofty::tag::Accessor;
use tapedeck_protocol::{SongId, SongInfo};

use crate::library::extension;

/// Why a file's metadata could not be read: the file is skipped.
#[derive(Debug, thiserror::Error)]
pub enum MetadataError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("{0}: {source}", source = .0.source().map(ToString::to_string).unwrap_or_default())]
    Parse(#[from] lofty::error::FileParseError),
}

/// Reads the metadata of the file at `path`, to be listed as `name`. The id is left 0 for the
/// library to assign.
pub fn read(name: &str, path: &Path) -> Result<SongInfo, MetadataError> {
    let size = std::fs::metadata(path)?.len();
    let tagged = Probe::open(path)?.guess_file_type()?.read()?;
    let props = tagged.properties();
    let duration_ms = u64::try_from(props.duration().as_millis()).unwrap_or(u64::MAX);
    let tag = tagged.primary_tag().or_else(|| tagged.first_tag());
    let text = |get: fn(&lofty::tag::Tag) -> Option<std::borrow::Cow<'_, str>>| {
        tag.and_then(get)
            .map(|s| s.trim().to_owned())
            .unwrap_or_default()
    };
    let title = Some(text(|t| t.title()))
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| stem(path));
    Ok(SongInfo {
        id: SongId(0),
        name: name.to_owned(),
        title,
        artist: text(|t| t.artist()),
        album: text(|t| t.album()),
        duration_ms,
        format: extension(path).unwrap_or_default(),
        sample_rate: props.sample_rate().unwrap_or(0),
        channels: props.channels().unwrap_or(0),
        bitrate: bitrate(props.audio_bitrate(), size, duration_ms),
        size,
    })
}

/// The audio bitrate in bits per second: lofty's figure (kbit/s) when it has one, else the
/// file's average.
fn bitrate(kbps: Option<u32>, size: u64, duration_ms: u64) -> u32 {
    match kbps {
        Some(kbps) if kbps > 0 => kbps.saturating_mul(1000),
        _ if duration_ms > 0 => {
            u32::try_from(size.saturating_mul(8000) / duration_ms).unwrap_or(u32::MAX)
        }
        _ => 0,
    }
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bitrate_prefers_lofty_then_average() {
        assert_eq!(bitrate(Some(320), 0, 0), 320_000);
        assert_eq!(bitrate(None, 40_000, 1000), 320_000);
        assert_eq!(bitrate(Some(0), 40_000, 1000), 320_000);
        assert_eq!(bitrate(None, 40_000, 0), 0);
    }
}
