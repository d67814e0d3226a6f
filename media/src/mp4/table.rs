//! A sound track's sample table (`stbl`) read into plain lists, and written out again for the
//! samples from one on: what a stream that starts part-way into the track indexes.

use super::sound::Sample;
use super::tree::Atom;
use super::{Sizes, entries};
use crate::read::{be32, be64};

/// The most samples a track's table may list: sixteen million, a hundred hours of AAC or
/// ALAC at 44.1 kHz (and as many as an index within `MAX_MOOV` can list one size at a time).
pub const MAX_SAMPLES: usize = 1 << 24;

/// The most samples [`Table::extend`] puts in one chunk.
const MAX_CHUNK: usize = 1024;

/// A chunk: samples stored back to back from `offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk {
    pub offset: u64,
    /// The index of its first sample.
    pub first: usize,
    pub count: usize,
    /// Its sample description (`stsc`'s third field).
    pub description: u32,
}

/// Every sample's size and duration, and the chunks that hold them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub sizes: Vec<u32>,
    pub deltas: Vec<u32>,
    pub chunks: Vec<Chunk>,
    /// Whether every sample has the same size (written as one `stsz` value).
    pub same_size: bool,
}

impl Table {
    /// Reads the sample table `stbl`; `None` when its lists disagree (counts that do not add
    /// up, missing tables) or list more than [`MAX_SAMPLES`].
    pub fn parse(stbl: &Atom) -> Option<Self> {
        let stsz = stbl.child(b"stsz")?.payload()?;
        let count = usize::try_from(be32(stsz, 8)?).ok()?;
        // A table of one size for all states its count alone: a broken one would ask for
        // billions of entries (found by fuzzing the page's decoder).
        if count > MAX_SAMPLES {
            return None;
        }
        let mut sizes = Sizes::parse(stsz)?;
        let same_size = matches!(sizes, Sizes::All(_));
        let sizes: Vec<u32> = (0..count)
            .map(|_| sizes.next().and_then(|s| u32::try_from(s).ok()))
            .collect::<Option<_>>()?;
        let deltas = deltas(stbl.child(b"stts")?.payload()?, count)?;
        let chunks = chunks(stbl, count)?;
        Some(Self {
            sizes,
            deltas,
            chunks,
            same_size,
        })
    }

    /// Adds `samples` after the last: a new chunk wherever one does not follow the octets
    /// before it, or the chunk before holds [`MAX_CHUNK`] samples (so that finding where the
    /// last chunk ends costs little, however often this is called).
    pub fn extend(&mut self, samples: &[Sample]) {
        if samples.is_empty() {
            return;
        }
        let mut end = self.chunks.last().and_then(|c| {
            let octets = self.sizes[c.first..].iter().map(|&s| u64::from(s)).sum();
            c.offset.checked_add(octets)
        });
        for sample in samples {
            let first = self.sizes.len();
            match self.chunks.last_mut() {
                Some(chunk)
                    if chunk.description == 1
                        && chunk.count < MAX_CHUNK
                        && end == Some(sample.offset) =>
                {
                    chunk.count += 1;
                }
                _ => self.chunks.push(Chunk {
                    offset: sample.offset,
                    first,
                    count: 1,
                    description: 1,
                }),
            }
            end = sample.offset.checked_add(u64::from(sample.size));
            self.same_size &= self.sizes.first().is_none_or(|&s| s == sample.size);
            self.sizes.push(sample.size);
            self.deltas.push(sample.duration);
        }
    }

    /// The duration of the samples before `sample`, in the track's timescale.
    pub fn time_of(&self, sample: usize) -> u64 {
        self.deltas[..sample.min(self.deltas.len())]
            .iter()
            .map(|&d| u64::from(d))
            .sum()
    }

    /// The file offset of sample `sample`, and the end of the last sample's octets.
    pub fn span_from(&self, sample: usize) -> Option<(u64, u64)> {
        let at = self.chunks.partition_point(|c| c.first + c.count <= sample);
        let chunk = self.chunks.get(at)?;
        let before: u64 = self.sizes[chunk.first..sample]
            .iter()
            .map(|&s| u64::from(s))
            .sum();
        let last = self.chunks.last()?;
        let last_len: u64 = self.sizes[last.first..last.first + last.count]
            .iter()
            .map(|&s| u64::from(s))
            .sum();
        Some((
            chunk.offset.checked_add(before)?,
            last.offset.checked_add(last_len)?,
        ))
    }

    /// The samples from `sample` on as a table of their own; `None` when the chunks do not lie in increasing order (the stream
    /// sends one range of the file).
    pub fn tail(&self, sample: usize) -> Option<Table> {
        let at = self.chunks.partition_point(|c| c.first + c.count <= sample);
        let (start, _) = self.span_from(sample)?;
        let first = self.chunks.get(at)?;
        let mut chunks = vec![Chunk {
            offset: start,
            first: 0,
            count: first.first + first.count - sample,
            description: first.description,
        }];
        for chunk in &self.chunks[at + 1..] {
            let previous = chunks.last()?;
            if chunk.offset < previous.offset {
                return None;
            }
            chunks.push(Chunk {
                first: chunk.first - sample,
                ..*chunk
            });
        }
        Some(Table {
            sizes: self.sizes[sample..].to_vec(),
            deltas: self.deltas[sample..].to_vec(),
            chunks,
            same_size: self.same_size,
        })
    }

    /// The table's boxes: `stts`, `stsc`, `stsz` and `stco` (or `co64` where an offset needs
    /// it), with every chunk at the offset `place` gives for its offset in the file.
    pub fn boxes(&self, place: impl Fn(u64) -> Option<u64>) -> Option<[Atom; 4]> {
        let offsets: Vec<u64> = self
            .chunks
            .iter()
            .map(|c| place(c.offset))
            .collect::<Option<_>>()?;
        Some([
            Atom::data(*b"stts", stts(&self.deltas)),
            Atom::data(*b"stsc", stsc(&self.chunks)),
            Atom::data(*b"stsz", stsz(&self.sizes, self.same_size)),
            offsets_box(&offsets),
        ])
    }
}

/// Each sample's duration, from `stts`'s runs, for `count` samples.
fn deltas(stts: &[u8], count: usize) -> Option<Vec<u32>> {
    let mut out = Vec::with_capacity(count);
    for entry in entries(stts, 8)? {
        let (n, delta) = (be32(entry, 0)?, be32(entry, 4)?);
        let n = usize::try_from(n).ok()?.min(count - out.len());
        out.extend(std::iter::repeat_n(delta, n));
        if out.len() == count {
            break;
        }
    }
    (out.len() == count).then_some(out)
}

/// The chunks, from `stco` or `co64` and `stsc`, holding `count` samples in all.
fn chunks(stbl: &Atom, count: usize) -> Option<Vec<Chunk>> {
    let offsets: Vec<u64> = match stbl.child(b"stco") {
        Some(stco) => entries(stco.payload()?, 4)?
            .map(|e| be32(e, 0).map(u64::from))
            .collect::<Option<_>>()?,
        None => entries(stbl.child(b"co64")?.payload()?, 8)?
            .map(|e| be64(e, 0))
            .collect::<Option<_>>()?,
    };
    let runs: Vec<(u32, u32, u32)> = entries(stbl.child(b"stsc")?.payload()?, 12)?
        .map(|e| Some((be32(e, 0)?, be32(e, 4)?, be32(e, 8)?)))
        .collect::<Option<_>>()?;
    let mut out = Vec::with_capacity(offsets.len());
    let (mut run, mut first) = (0usize, 0usize);
    for (index, &offset) in offsets.iter().enumerate() {
        let number = u32::try_from(index + 1).ok()?;
        while runs.get(run + 1).is_some_and(|r| r.0 <= number) {
            run += 1;
        }
        let &(_, per_chunk, description) = runs.get(run)?;
        let per_chunk = usize::try_from(per_chunk).ok()?.min(count - first);
        out.push(Chunk {
            offset,
            first,
            count: per_chunk,
            description,
        });
        first += per_chunk;
    }
    (first == count).then_some(out)
}

/// A full box's version and flags (0), then `words`.
fn full(words: impl IntoIterator<Item = u32>) -> Vec<u8> {
    let mut out = vec![0; 4];
    for word in words {
        out.extend(word.to_be_bytes());
    }
    out
}

fn stts(deltas: &[u32]) -> Vec<u8> {
    let mut runs: Vec<(u32, u32)> = Vec::new();
    for &delta in deltas {
        match runs.last_mut() {
            Some((n, d)) if *d == delta => *n += 1,
            _ => runs.push((1, delta)),
        }
    }
    let count = u32::try_from(runs.len()).unwrap_or(u32::MAX);
    full(std::iter::once(count).chain(runs.into_iter().flat_map(|(n, d)| [n, d])))
}

fn stsc(chunks: &[Chunk]) -> Vec<u8> {
    let mut runs: Vec<(u32, u32, u32)> = Vec::new();
    for (index, chunk) in chunks.iter().enumerate() {
        let count = u32::try_from(chunk.count).unwrap_or(u32::MAX);
        if runs
            .last()
            .is_none_or(|r| (r.1, r.2) != (count, chunk.description))
        {
            let number = u32::try_from(index + 1).unwrap_or(u32::MAX);
            runs.push((number, count, chunk.description));
        }
    }
    let count = u32::try_from(runs.len()).unwrap_or(u32::MAX);
    full(std::iter::once(count).chain(runs.into_iter().flat_map(|(a, b, c)| [a, b, c])))
}

fn stsz(sizes: &[u32], same_size: bool) -> Vec<u8> {
    let count = u32::try_from(sizes.len()).unwrap_or(u32::MAX);
    match sizes.first() {
        Some(&size) if same_size => full([size, count]),
        _ => full([0, count].into_iter().chain(sizes.iter().copied())),
    }
}

/// `stco` when every offset fits 32 bits, else `co64`.
pub fn offsets_box(offsets: &[u64]) -> Atom {
    let count = u32::try_from(offsets.len()).unwrap_or(u32::MAX);
    match offsets
        .iter()
        .map(|&o| u32::try_from(o).ok())
        .collect::<Option<Vec<u32>>>()
    {
        Some(small) => Atom::data(*b"stco", full(std::iter::once(count).chain(small))),
        None => {
            let mut payload = full([count]);
            for offset in offsets {
                payload.extend(offset.to_be_bytes());
            }
            Atom::data(*b"co64", payload)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::moov;
    use super::*;

    fn table() -> Table {
        let moov = moov([100, 300, 500]);
        let atom = Atom::parse(*b"moov", &moov[8..]).expect("parse");
        let stbl = atom
            .find(&[b"trak", b"mdia", b"minf", b"stbl"])
            .expect("stbl");
        Table::parse(stbl).expect("table")
    }

    #[test]
    fn a_table_reads_into_lists() {
        let table = table();
        assert_eq!(table.sizes, vec![50; 6]);
        assert_eq!(table.deltas, vec![10; 6]);
        assert_eq!(table.chunks.len(), 3);
        assert_eq!(table.chunks[2].first, 4);
        assert_eq!(table.time_of(3), 30);
        assert_eq!(table.span_from(3), Some((350, 600)));
    }

    /// Samples added after the index's: one chunk while each follows the octets before it
    /// (up to [`MAX_CHUNK`] samples), a new one where one does not.
    #[test]
    fn added_samples_join_the_chunk_they_follow() {
        let mut table = table();
        let chunks = table.chunks.len();
        let sample = |offset| Sample {
            offset,
            size: 10,
            duration: 1024,
        };
        let run: Vec<Sample> = (0..3000).map(|i| sample(10_000 + 10 * i)).collect();
        table.extend(&run);
        table.extend(&[sample(45_000), sample(50_000)]);
        let added: Vec<(u64, usize)> = table.chunks[chunks..]
            .iter()
            .map(|c| (c.offset, c.count))
            .collect();
        assert_eq!(
            added,
            [
                (10_000, 1024),
                (20_240, 1024),
                (30_480, 952),
                (45_000, 1),
                (50_000, 1)
            ]
        );
        assert_eq!(table.sizes.len(), table.deltas.len());
    }

    #[test]
    fn a_tail_starts_mid_chunk() {
        let tail = table().tail(3).expect("tail");
        assert_eq!(tail.sizes.len(), 3);
        assert_eq!(
            tail.chunks
                .iter()
                .map(|c| (c.offset, c.count))
                .collect::<Vec<_>>(),
            vec![(350, 1), (500, 2)]
        );
        let [_, stsc, _, stco] = tail.boxes(|o| o.checked_sub(340)).expect("boxes");
        assert_eq!(
            stsc.payload().expect("data"),
            &full([2, 1, 1, 1, 2, 2, 1])[..]
        );
        assert_eq!(stco.payload().expect("data"), &full([2, 10, 160])[..]);
    }

    #[test]
    fn offsets_past_4_gib_take_64_bits() {
        assert_eq!(offsets_box(&[1, u64::from(u32::MAX)]).kind, *b"stco");
        let wide = offsets_box(&[1, 1 << 32]);
        assert_eq!(wide.kind, *b"co64");
        assert_eq!(wide.len(), 8 + 8 + 16);
    }

    /// One size for billions of samples is refused, not allocated.
    #[test]
    fn a_table_of_too_many_samples_is_refused() {
        let count = u32::try_from(MAX_SAMPLES + 1).expect("fits");
        let stsz: Vec<u8> = [0, 4, count]
            .iter()
            .flat_map(|w: &u32| w.to_be_bytes())
            .collect();
        let stbl = Atom::boxes(*b"stbl", vec![Atom::data(*b"stsz", stsz)]);
        assert_eq!(Table::parse(&stbl), None);
    }
}
