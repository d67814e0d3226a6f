//! The order of a `songs` page (PROTOCOL.md 5.7): by name, or by a field of the song object,
//! ascending or descending.

use std::fmt;
use std::str::FromStr;

/// What songs are sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SortKey {
    /// The song name, in byte order: the order of `list`.
    #[default]
    Name,
    /// The title, folded as search folds it (PROTOCOL.md 5.8).
    Title,
    /// The artist, folded.
    Artist,
    /// The album, folded.
    Album,
    /// `duration_ms`.
    Duration,
    /// `format`.
    Format,
}

impl SortKey {
    /// Every key, in the order of their words.
    pub const ALL: [Self; 6] = [
        Self::Name,
        Self::Title,
        Self::Artist,
        Self::Album,
        Self::Duration,
        Self::Format,
    ];

    /// The key's word on the wire.
    pub fn word(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::Title => "title",
            Self::Artist => "artist",
            Self::Album => "album",
            Self::Duration => "duration",
            Self::Format => "format",
        }
    }
}

/// A page's order: a key, and whether it runs backwards. Ascending orders break ties by name;
/// a descending order is the exact reverse of the ascending one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Order {
    pub key: SortKey,
    pub descending: bool,
}

impl Order {
    /// The order of `list`: by name, ascending.
    pub const NAME: Self = Self {
        key: SortKey::Name,
        descending: false,
    };
}

/// The word is not an order: `error invalid order`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidOrder;

impl FromStr for Order {
    type Err = InvalidOrder;

    /// `title`, `-title`, ... (any case).
    fn from_str(word: &str) -> Result<Self, InvalidOrder> {
        let (descending, key) = match word.strip_prefix('-') {
            Some(key) => (true, key),
            None => (false, word),
        };
        let key = SortKey::ALL
            .into_iter()
            .find(|k| k.word().eq_ignore_ascii_case(key))
            .ok_or(InvalidOrder)?;
        Ok(Self { key, descending })
    }
}

impl fmt::Display for Order {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.descending { "-" } else { "" };
        write!(f, "{sign}{}", self.key.word())
    }
}
