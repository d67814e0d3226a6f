//! An mp4 index (`moov`) as a tree of boxes that can be edited and written out again: the
//! boxes on the way to the sample tables are opened, every other box is kept as octets.

use super::parse_box;

/// Boxes that hold only boxes, and are opened on the way to the sample tables.
const CONTAINERS: [&[u8; 4]; 6] = [b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts"];

/// Nesting opened at most (moov/trak/mdia/minf/stbl is 5 deep).
const MAX_DEPTH: usize = 8;

/// A box: its type and what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Atom {
    pub kind: [u8; 4],
    pub body: Body,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// A box kept as its payload octets.
    Data(Vec<u8>),
    /// A container, opened.
    Boxes(Vec<Atom>),
}

impl Atom {
    /// The box of type `kind` with `payload`, opened where it is a container. `None` when a
    /// container's children do not exactly fill it.
    pub fn parse(kind: [u8; 4], payload: &[u8]) -> Option<Self> {
        Self::parse_at(kind, payload, 0)
    }

    fn parse_at(kind: [u8; 4], payload: &[u8], depth: usize) -> Option<Self> {
        if !CONTAINERS.contains(&&kind) || depth >= MAX_DEPTH {
            return Some(Self::data(kind, payload.to_vec()));
        }
        let mut children = Vec::new();
        let mut at = 0usize;
        while at < payload.len() {
            let rest = &payload[at..];
            let found = parse_box(rest, 0, rest.len() as u64)?;
            let (start, end) = (
                usize::try_from(found.payload).ok()?,
                usize::try_from(found.end).ok()?,
            );
            children.push(Self::parse_at(found.kind, &rest[start..end], depth + 1)?);
            at += end;
        }
        Some(Self {
            kind,
            body: Body::Boxes(children),
        })
    }

    pub fn data(kind: [u8; 4], payload: Vec<u8>) -> Self {
        Self {
            kind,
            body: Body::Data(payload),
        }
    }

    pub fn boxes(kind: [u8; 4], children: Vec<Atom>) -> Self {
        Self {
            kind,
            body: Body::Boxes(children),
        }
    }

    /// The box's length once written, header included.
    pub fn len(&self) -> u64 {
        let payload = self.payload_len();
        payload + header_len(payload)
    }

    /// Never: a box has at least its header.
    pub fn is_empty(&self) -> bool {
        false
    }

    fn payload_len(&self) -> u64 {
        match &self.body {
            Body::Data(payload) => payload.len() as u64,
            Body::Boxes(children) => children.iter().map(Atom::len).sum(),
        }
    }

    /// Appends the box, header included, to `out`.
    pub fn write(&self, out: &mut Vec<u8>) {
        let payload = self.payload_len();
        match u32::try_from(payload + 8) {
            Ok(size) => {
                out.extend(size.to_be_bytes());
                out.extend(self.kind);
            }
            Err(_) => {
                out.extend(1u32.to_be_bytes());
                out.extend(self.kind);
                out.extend((payload + 16).to_be_bytes());
            }
        }
        match &self.body {
            Body::Data(bytes) => out.extend(bytes),
            Body::Boxes(children) => children.iter().for_each(|c| c.write(out)),
        }
    }

    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(usize::try_from(self.len()).unwrap_or(0));
        self.write(&mut out);
        out
    }

    /// The children of a container; none for a data box.
    pub fn children(&self) -> &[Atom] {
        match &self.body {
            Body::Boxes(children) => children,
            Body::Data(_) => &[],
        }
    }

    pub fn children_mut(&mut self) -> &mut [Atom] {
        match &mut self.body {
            Body::Boxes(children) => children,
            Body::Data(_) => &mut [],
        }
    }

    /// The first child of type `kind`.
    pub fn child(&self, kind: &[u8; 4]) -> Option<&Atom> {
        self.children().iter().find(|c| &c.kind == kind)
    }

    /// The payload of a data box.
    pub fn payload(&self) -> Option<&[u8]> {
        match &self.body {
            Body::Data(bytes) => Some(bytes),
            Body::Boxes(_) => None,
        }
    }

    /// The box at the end of `path` of types below this one.
    pub fn find(&self, path: &[&[u8; 4]]) -> Option<&Atom> {
        path.iter().try_fold(self, |atom, kind| atom.child(kind))
    }
}

/// The header length of a box with a payload of `payload` octets.
fn header_len(payload: u64) -> u64 {
    if payload + 8 > u64::from(u32::MAX) {
        16
    } else {
        8
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{boxed, moov};
    use super::*;

    #[test]
    fn a_parsed_index_writes_back_the_same() {
        let moov = moov([1, 2, 3]);
        let atom = Atom::parse(*b"moov", &moov[8..]).expect("parse");
        assert_eq!(atom.to_vec(), moov);
        assert_eq!(atom.len(), moov.len() as u64);
        let stbl = atom
            .find(&[b"trak", b"mdia", b"minf", b"stbl"])
            .expect("stbl");
        assert_eq!(stbl.children().len(), 4);
    }

    #[test]
    fn children_that_do_not_fill_their_container_are_refused() {
        let mut trak = boxed(b"trak", &boxed(b"mdia", &[]));
        trak.push(0);
        assert_eq!(Atom::parse(*b"moov", &trak), None);
    }
}
