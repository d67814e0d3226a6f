//! Where a song's cover art is, found when its tags are read: a picture in its tags (lofty),
//! else an image in its folder (`cover.jpg`, `folder.png`, `Front.JPG`, ...).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use lofty::picture::PictureType;
use lofty::tag::Tag;

/// A song's cover art.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Art {
    /// A picture in the song file's tags (the front cover, else the first).
    Embedded,
    /// An image file in the song's folder (its canonical path, inside the music folder),
    /// shared by the songs of the folder.
    Image(Arc<Path>),
}

/// How [`Art::Embedded`] is kept in the index (every other value is an image's path, which is
/// absolute).
const EMBEDDED: &str = "embedded";

impl Art {
    /// The index's column.
    pub fn to_column(&self) -> String {
        match self {
            Self::Embedded => EMBEDDED.to_owned(),
            Self::Image(path) => path.to_string_lossy().into_owned(),
        }
    }

    /// The file the picture is read from: the song's own, or the image.
    pub fn source<'a>(&'a self, song: &'a Path) -> &'a Path {
        match self {
            Self::Embedded => song,
            Self::Image(path) => path,
        }
    }

    /// The art a column names; an image already named by `seen` is shared, not copied.
    pub fn from_column(column: String, seen: &mut HashMap<String, Arc<Path>>) -> Self {
        if column == EMBEDDED {
            return Self::Embedded;
        }
        let path = seen
            .entry(column)
            .or_insert_with_key(|column| Arc::from(Path::new(column)));
        Self::Image(Arc::clone(path))
    }
}

/// Folder images, best first, by name without extension (any case).
const NAMES: [&str; 6] = [
    "cover",
    "folder",
    "front",
    "album",
    "albumart",
    "albumartsmall",
];
/// Their extensions (any case).
const EXTENSIONS: [&str; 3] = ["jpg", "jpeg", "png"];

/// Whether any of the tags holds a picture.
pub fn embedded(tags: &[Tag]) -> bool {
    tags.iter().any(|tag| !tag.pictures().is_empty())
}

/// The picture to show from tags: the front cover, else the first.
pub fn picture(tags: &[Tag]) -> Option<&lofty::picture::Picture> {
    let pictures = || tags.iter().flat_map(|t| t.pictures());
    pictures()
        .find(|p| p.pic_type() == PictureType::CoverFront)
        .or_else(|| pictures().next())
}

/// Folder images found in one scan, by folder (a folder is listed once however many songs it
/// holds).
#[derive(Debug)]
pub struct Folders {
    root: PathBuf,
    seen: HashMap<PathBuf, Option<Arc<Path>>>,
}

impl Folders {
    /// For the music folder `root` (canonical): images outside it are never taken.
    pub fn new(root: &Path) -> Self {
        Self {
            root: root.to_owned(),
            seen: HashMap::new(),
        }
    }

    /// The image of the folder `song` (a canonical path) is in, if it has one.
    pub fn image_for(&mut self, song: &Path) -> Option<Arc<Path>> {
        let folder = song.parent()?;
        if let Some(known) = self.seen.get(folder) {
            return known.clone();
        }
        let found = self.look(folder);
        self.seen.insert(folder.to_owned(), found.clone());
        found
    }

    fn look(&self, folder: &Path) -> Option<Arc<Path>> {
        let mut best: Option<(usize, PathBuf)> = None;
        for entry in std::fs::read_dir(folder).ok()?.flatten() {
            let path = entry.path();
            let rank = rank(&path);
            if let Some(rank) = rank.filter(|r| best.as_ref().is_none_or(|(b, _)| r < b)) {
                let Ok(real) = path.canonicalize() else {
                    continue;
                };
                if real.starts_with(&self.root) && real.is_file() {
                    best = Some((rank, real));
                }
            }
        }
        best.map(|(_, path)| Arc::from(path))
    }
}

/// Where a file's name puts it among folder images (lower is better); `None` if it is not one.
fn rank(path: &Path) -> Option<usize> {
    let stem = path.file_stem()?.to_str()?.to_ascii_lowercase();
    let extension = path.extension()?.to_str()?.to_ascii_lowercase();
    let name = NAMES.iter().position(|n| *n == stem)?;
    let kind = EXTENSIONS.iter().position(|e| *e == extension)?;
    Some(name * EXTENSIONS.len() + kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_images_by_name_in_any_case() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().canonicalize().expect("canonical");
        let album = root.join("album");
        std::fs::create_dir(&album).expect("album");
        let song = album.join("01.mp3");
        let mut folders = Folders::new(&root);
        assert_eq!(folders.image_for(&song), None);
        let other = root.join("other");
        std::fs::create_dir(&other).expect("other");
        for name in ["Front.PNG", "FOLDER.jpg", "notes.jpg"] {
            std::fs::write(other.join(name), b"x").expect("write");
        }
        let mut folders = Folders::new(&root);
        let found = folders.image_for(&other.join("1.flac"));
        assert_eq!(found.as_deref(), Some(other.join("FOLDER.jpg").as_path()));
        let mut seen = HashMap::new();
        assert_eq!(
            Art::from_column(Art::Embedded.to_column(), &mut seen),
            Art::Embedded
        );
    }
}
