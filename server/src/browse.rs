//! Browsing a library snapshot by artist and album (PROTOCOL.md 5.9): built once, when
//! first asked for, and every reply bounded like a page.
//!
//! An album is the songs that share an artist and an album tag (folded like search, so
//! "Abbey Road" and "ABBEY ROAD" are one album); it is known by its first song's id.

use std::collections::HashMap;

use tapedeck_protocol::{AlbumInfo, AlbumPage, AlbumSongs, ArtistInfo, ArtistPage, MAX_PAGE_SONGS};

use crate::library::Songs;
use crate::search::{bounded, fold, total};

/// The artists and albums of a snapshot.
#[derive(Debug)]
pub struct Browse {
    /// In order of folded name.
    artists: Vec<Artist>,
    /// In order of folded artist, then folded title.
    albums: Vec<Album>,
    /// The album each song is on (an index into `albums`), by the song's place.
    album_of: Box<[u32]>,
}

#[derive(Debug)]
struct Artist {
    info: ArtistInfo,
    key: String,
}

#[derive(Debug)]
struct Album {
    info: AlbumInfo,
    /// (folded artist, folded title).
    key: (String, String),
    /// Its songs, as places in the snapshot's songs (in name order).
    songs: Vec<u32>,
}

impl Browse {
    /// Groups `songs` (in name order) into albums and artists.
    pub fn of(songs: &Songs) -> Self {
        let mut albums: Vec<Album> = Vec::new();
        let mut by_key: HashMap<(String, String), usize> = HashMap::new();
        for (at, song) in songs.iter().enumerate() {
            let key = (fold(song.artist()), fold(song.album()));
            let album = *by_key.entry(key.clone()).or_insert_with(|| {
                albums.push(Album {
                    info: AlbumInfo {
                        id: song.id(),
                        title: song.album().to_owned(),
                        artist: song.artist().to_owned(),
                        songs: 0,
                        art: None,
                    },
                    key,
                    songs: Vec::new(),
                });
                albums.len() - 1
            });
            let album = &mut albums[album];
            album.songs.push(total(at));
            album.info.songs += 1;
            if album.info.art.is_none() && song.art().is_some() {
                album.info.art = Some(song.id());
            }
        }
        albums.sort_by(|a, b| a.key.cmp(&b.key));
        let mut album_of = vec![0; songs.len()].into_boxed_slice();
        for (at, album) in albums.iter().enumerate() {
            for &place in &album.songs {
                if let Some(of) = album_of.get_mut(place as usize) {
                    *of = total(at);
                }
            }
        }
        Self {
            artists: artists(&albums),
            albums,
            album_of,
        }
    }

    /// `artists <from> <count>`.
    pub fn artists(&self, from: u32, count: u32) -> ArtistPage {
        let start = index(from).min(self.artists.len());
        ArtistPage {
            total: total(self.artists.len()),
            from,
            artists: bounded(self.artists[start..].iter().map(|a| a.info.clone()), count),
        }
    }

    /// `albums <from> <count> [<artist>]`: all albums, or those of the artist whose folded
    /// name is `artist`'s.
    pub fn albums(&self, from: u32, count: u32, artist: Option<&str>) -> AlbumPage {
        let albums: &[Album] = match artist.map(fold) {
            None => &self.albums,
            Some(artist) => {
                let first = self.albums.partition_point(|a| a.key.0 < artist);
                let end = self.albums.partition_point(|a| a.key.0 <= artist);
                &self.albums[first..end]
            }
        };
        let start = index(from).min(albums.len());
        AlbumPage {
            total: total(albums.len()),
            from,
            albums: bounded(albums[start..].iter().map(|a| a.info.clone()), count),
        }
    }

    /// `album <id>`: the album of the song at `place` in `songs`, `None` when there is none.
    pub fn album(&self, songs: &Songs, place: usize) -> Option<AlbumSongs> {
        let album = self.albums.get(*self.album_of.get(place)? as usize)?;
        let infos = album.songs.iter().filter_map(|&s| songs.get(s as usize));
        let infos = infos.map(crate::library::Song::info);
        Some(AlbumSongs {
            id: album.info.id,
            title: album.info.title.clone(),
            artist: album.info.artist.clone(),
            total: total(album.songs.len()),
            songs: bounded(infos, MAX_PAGE_SONGS),
        })
    }
}

/// The artists of `albums` (sorted by artist): how many albums and songs each has.
fn artists(albums: &[Album]) -> Vec<Artist> {
    let mut out: Vec<Artist> = Vec::new();
    for album in albums {
        match out.last_mut() {
            Some(artist) if artist.key == album.key.0 => {
                artist.info.albums += 1;
                artist.info.songs += album.info.songs;
            }
            _ => out.push(Artist {
                info: ArtistInfo {
                    name: album.info.artist.clone(),
                    albums: 1,
                    songs: album.info.songs,
                },
                key: album.key.0.clone(),
            }),
        }
    }
    out
}

fn index(from: u32) -> usize {
    usize::try_from(from).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {

    use tapedeck_protocol::{MAX_PAGE_OCTETS, Reply};

    use super::*;

    /// `n` songs, 10 to an album, 10 albums to an artist, with tags of `chars` characters.
    fn songs(n: usize, chars: usize) -> Songs {
        let long = "𝄞".repeat(chars);
        Songs::of_infos((0..n).map(|i| {
            let artist = format!("Artist {} {long}", i / 100);
            Songs::made_up(
                i,
                format!("{i}"),
                artist,
                format!("Album {} {long}", i / 10),
            )
        }))
    }

    #[test]
    fn every_page_is_bounded_and_pages_cover_everything_once() {
        for (n, chars) in [(0, 1), (1, 1), (2500, 1), (2000, 1024)] {
            let library = songs(n, chars);
            let browse = Browse::of(&library);
            let (mut from, mut artists) = (0, 0);
            loop {
                let page = browse.artists(from, u32::MAX);
                assert!(Reply::Artists(page.clone()).to_string().len() <= MAX_PAGE_OCTETS);
                if page.artists.is_empty() {
                    break;
                }
                from += u32::try_from(page.artists.len()).expect("small");
                artists += page.artists.len();
            }
            assert_eq!(artists, n.div_ceil(100));
            let (mut from, mut albums) = (0, 0);
            loop {
                let page = browse.albums(from, u32::MAX, None);
                assert!(Reply::Albums(page.clone()).to_string().len() <= MAX_PAGE_OCTETS);
                if page.albums.is_empty() {
                    break;
                }
                from += u32::try_from(page.albums.len()).expect("small");
                albums += page.albums.len();
            }
            assert_eq!(albums, n.div_ceil(10));
            if !library.is_empty() {
                let album = browse.album(&library, 0).expect("an album");
                assert_eq!(album.total, 10.min(u32::try_from(n).expect("small")));
                assert!(Reply::Album(album).to_string().len() <= MAX_PAGE_OCTETS);
            }
        }
    }
}
