//! Cover art as served (`art <id> [<px>]`, PROTOCOL.md 5.11): a JPEG thumbnail of a song's
//! picture at one of a few sizes, made once, off the async threads, and kept in a cache of
//! bounded size. A picture that is too large, broken or gone is an error, never a panic, and
//! costs at most [`MAX_PICTURE_OCTETS`] and the decoder's allocation limit.

use std::collections::{HashMap, VecDeque};
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use image::codecs::jpeg::JpegEncoder;
use image::{ImageReader, Limits};
use lofty::file::TaggedFileExt;
use lofty::probe::Probe;

use crate::index::art::{Art, picture};

/// The sizes made, in pixels on the longer side: a size asked for is rounded up to one.
pub const SIZES: [u32; 4] = [64, 128, 256, 512];
/// The size when none is asked for, and the largest.
pub const LARGEST: u32 = 512;
/// The media type of every thumbnail.
pub const MEDIA_TYPE: &str = "image/jpeg";
/// The largest picture read, in a file or in tags.
pub const MAX_PICTURE_OCTETS: u64 = 64 << 20;
/// The largest picture decoded, in pixels on a side, and the memory its decoding may take.
const MAX_SIDE: u32 = 16_384;
const MAX_DECODE_OCTETS: u64 = 512 << 20;
/// Thumbnails kept, in octets; past it the oldest go first.
const CACHE_OCTETS: usize = 32 << 20;
const JPEG_QUALITY: u8 = 85;

/// The size made for `asked`.
pub fn size_for(asked: Option<u32>) -> u32 {
    asked.map_or(LARGEST, |px| {
        SIZES.into_iter().find(|s| *s >= px).unwrap_or(LARGEST)
    })
}

/// Why a song's art cannot be served; the log says which, the client `error art unreadable`.
#[derive(Debug, thiserror::Error)]
pub enum ArtError {
    #[error("cannot read the picture: {0}")]
    Io(#[from] std::io::Error),
    #[error("the picture is over {MAX_PICTURE_OCTETS} octets")]
    TooBig,
    #[error("the song's tags cannot be read: {0}")]
    Tags(#[from] lofty::error::FileParseError),
    #[error("the song's tags hold no picture any more")]
    Gone,
    #[error("the picture cannot be decoded: {0}")]
    Image(#[from] image::ImageError),
}

/// Thumbnails made, by their source file, its modification time and their size.
#[derive(Debug, Default)]
pub struct Thumbnails {
    cache: Mutex<Cache>,
}

type Key = (PathBuf, Option<std::time::SystemTime>, u32);

#[derive(Debug, Default)]
struct Cache {
    made: HashMap<Key, Arc<[u8]>>,
    /// Oldest first.
    order: VecDeque<Key>,
    octets: usize,
}

impl Thumbnails {
    /// The thumbnail of `art` (of the song at `song`) at `px`, from the cache or made now.
    /// Blocking: call it off the async threads.
    pub fn get(&self, song: &Path, art: &Art, px: u32) -> Result<Arc<[u8]>, ArtError> {
        let source = art.source(song);
        let meta = std::fs::metadata(source)?;
        let key = (source.to_owned(), meta.modified().ok(), px);
        if let Some(made) = self.lock().made.get(&key) {
            return Ok(made.clone());
        }
        let picture = read_picture(source, meta.len(), art)?;
        let made: Arc<[u8]> = thumbnail(&picture, px)?.into();
        self.lock().keep(key, made.clone());
        Ok(made)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Cache {
    fn keep(&mut self, key: Key, made: Arc<[u8]>) {
        if self.made.contains_key(&key) {
            return;
        }
        self.octets += made.len();
        self.order.push_back(key.clone());
        self.made.insert(key, made);
        while self.octets > CACHE_OCTETS {
            let Some(oldest) = self.order.pop_front() else {
                break;
            };
            if let Some(gone) = self.made.remove(&oldest) {
                self.octets -= gone.len();
            }
        }
    }
}

/// The picture's octets: the image file (`octets` long), or the picture in the song's tags.
fn read_picture(source: &Path, octets: u64, art: &Art) -> Result<Vec<u8>, ArtError> {
    match art {
        Art::Image(_) if octets > MAX_PICTURE_OCTETS => Err(ArtError::TooBig),
        Art::Image(path) => Ok(std::fs::read(path)?),
        Art::Embedded => {
            let tagged = Probe::open(source)?.guess_file_type()?.read()?;
            let picture = picture(tagged.tags()).ok_or(ArtError::Gone)?;
            if picture.data().len() as u64 > MAX_PICTURE_OCTETS {
                return Err(ArtError::TooBig);
            }
            Ok(picture.data().to_vec())
        }
    }
}

/// `picture` decoded (within limits), scaled to fit `px` by `px` (never up), as a JPEG.
pub fn thumbnail(picture: &[u8], px: u32) -> Result<Vec<u8>, ArtError> {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_OCTETS);
    let mut reader = ImageReader::new(Cursor::new(picture)).with_guessed_format()?;
    reader.limits(limits);
    let image = reader.decode()?;
    let scaled = if image.width() > px || image.height() > px {
        image.thumbnail(px, px)
    } else {
        image
    };
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY).encode_image(&scaled.to_rgb8())?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let image = image::RgbImage::from_fn(width, height, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
        });
        let mut out = Vec::new();
        image
            .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
            .expect("png");
        out
    }

    #[test]
    fn thumbnails_fit_their_size_and_bad_pictures_are_errors() {
        let made = thumbnail(&png(1000, 500), 256).expect("a thumbnail");
        let back = image::load_from_memory(&made).expect("a jpeg");
        assert_eq!((back.width(), back.height()), (256, 128));
        let small = thumbnail(&png(40, 40), 512).expect("a thumbnail");
        let back = image::load_from_memory(&small).expect("a jpeg");
        assert_eq!((back.width(), back.height()), (40, 40), "never scaled up");
        assert!(thumbnail(b"not a picture", 64).is_err());
        let mut cut = png(300, 300);
        cut.truncate(cut.len() / 2);
        assert!(thumbnail(&cut, 64).is_err(), "half a PNG");
        assert_eq!(size_for(None), 512);
        assert_eq!(size_for(Some(1)), 64);
        assert_eq!(size_for(Some(65)), 128);
        assert_eq!(size_for(Some(100_000)), 512);
    }

    /// A PNG header claiming 100,000 x 100,000 pixels: refused before anything is allocated.
    #[test]
    fn a_picture_claiming_to_be_huge_is_refused() {
        let mut bomb = png(8, 8);
        // IHDR's width and height follow the 8-octet signature and the chunk's length and type.
        bomb[16..20].copy_from_slice(&100_000u32.to_be_bytes());
        bomb[20..24].copy_from_slice(&100_000u32.to_be_bytes());
        assert!(thumbnail(&bomb, 64).is_err());
    }
}
