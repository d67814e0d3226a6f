//! The Tapedeck control protocol as data: what a client sends, what a server answers, and how
//! both look on the wire. See `PROTOCOL.md` at the repository root for the specification.
//!
//! Architecture Invariant: this crate does no I/O and knows nothing about tokio or the browser,
//! so the server, the bridge, the web app and the fuzzers all share one parser.

mod auth;
mod command;
mod event;
mod frame;
mod order;
mod place;
mod reply;
mod song;

pub use auth::{MAX_USER_NAME, Password, SESSION_ID_LEN, valid_session_id, valid_user_name};
pub use command::{Command, CommandError};
pub use event::{EVENT_PREFIX, Event};
pub use frame::{LineBuffer, LineTooLong};
pub use order::{InvalidOrder, Order, SortKey};
pub use place::{Place, Queue};
pub use reply::{Reply, ReplyError};
pub use song::{
    AlbumInfo, AlbumPage, AlbumSongs, ArtistInfo, ArtistPage, Found, SongId, SongInfo, SongList,
    SongPage,
};

/// The control port a server listens on unless told otherwise (the course's port).
pub const DEFAULT_PORT: u16 = 55353;

/// The longest command line a server accepts, in bytes, excluding the LF.
///
/// Commands are tiny (`play 4294967295` is 15 bytes); 1 KiB leaves room for future commands
/// while keeping a hostile client from making the server buffer more than this per connection.
pub const MAX_LINE_LEN: usize = 1024;

/// The most songs a `songs` or `search` reply holds, whatever the count asked for.
pub const MAX_PAGE_SONGS: u32 = 1000;

/// The longest `songs` or `search` reply, in octets without the LF: a page stops short of it.
/// (Tags are at most 1,024 characters each, so one song is always far below it.)
pub const MAX_PAGE_OCTETS: usize = 1 << 20;

/// The number of hexadecimal characters of a data-port token (128 bits of randomness).
pub const TOKEN_LEN: usize = 32;
