//! Property: however fast and in whatever order a browser sends `play`, `stop` and `list`, no
//! audio of an earlier play arrives after the reply to a later `play` or `stop`, and the audio
//! after a `port` reply is exactly that song from its first byte.

mod common;

use std::sync::OnceLock;

use common::{Browser, Got, Stack, demo_music};
use proptest::prelude::*;
use tapedeck_protocol::Event;
use tokio::runtime::Runtime;

#[derive(Debug, Clone, Copy)]
enum Op {
    Play(u32),
    Stop,
    List,
    /// Wait for every reply so far, then for some audio if a song plays: so that switches and
    /// stops also happen mid-stream, not only before any audio flowed.
    Listen,
}

impl Op {
    fn line(self) -> String {
        match self {
            Op::Play(id) => format!("play {id}"),
            Op::Stop => "stop".into(),
            Op::List => "list".into(),
            Op::Listen => unreachable!("not sent"),
        }
    }
}

fn any_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (1u32..=4).prop_map(Op::Play),
        2 => Just(Op::Stop),
        1 => Just(Op::List),
        3 => Just(Op::Listen),
    ]
}

/// One runtime, server and bridge for all cases; the songs' bytes by id. The server is
/// unpaced, so when a command comes mid-song, audio is in flight everywhere on the way.
fn world() -> &'static (Runtime, Stack, Vec<Vec<u8>>) {
    static WORLD: OnceLock<(Runtime, Stack, Vec<Vec<u8>>)> = OnceLock::new();
    WORLD.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let stack = runtime.block_on(Stack::demo());
        let names = [
            "01 Morning Tape.mp3",
            "02 Night Drive.flac",
            "03 Paper Boats.ogg",
            "04 Small Hours.wav",
        ];
        let songs = names
            .iter()
            .map(|n| std::fs::read(demo_music().join(n)).expect("read"))
            .collect();
        (runtime, stack, songs)
    })
}

/// The browser's view: what it must be hearing now, and the replies it still awaits.
struct Listener<'a> {
    browser: Browser,
    songs: &'a [Vec<u8>],
    /// (song index, bytes of it received so far), while a song plays.
    now: Option<(usize, usize)>,
    awaiting: std::collections::VecDeque<Op>,
    /// Audio chunks received since the last reply.
    chunks: usize,
}

impl Listener<'_> {
    async fn send(&mut self, op: Op) {
        self.browser.send(&op.line()).await;
        self.awaiting.push_back(op);
    }

    /// Receives and checks one message.
    async fn step(&mut self) {
        match self.browser.next().await {
            Got::Binary(chunk) => {
                let (song, at) = self.now.expect("audio arrived while nothing should play");
                assert_eq!(
                    &self.songs[song][at..at + chunk.len()],
                    &chunk[..],
                    "stale or misplaced audio"
                );
                self.now = Some((song, at + chunk.len()));
                self.chunks += 1;
            }
            Got::Text(text) => match Event::parse(&text) {
                Some(Event::End) => {
                    let (song, at) = self.now.expect("end while nothing plays");
                    assert_eq!(at, self.songs[song].len(), "end before the whole song");
                    self.now = None;
                }
                Some(Event::Error(reason)) => panic!("unexpected error event: {reason}"),
                Some(other @ (Event::LibraryChanged | Event::Other(_))) => {
                    panic!("the library does not change here: {other:?}")
                }
                None => self.reply(&text),
            },
            Got::Closed(code) => panic!("closed: {code:?}"),
        }
    }

    fn reply(&mut self, text: &str) {
        let op = self
            .awaiting
            .pop_front()
            .expect("a reply to something sent");
        self.chunks = 0;
        match op {
            Op::Play(id) => {
                let size = self.songs[id as usize - 1].len();
                assert!(
                    text.starts_with("port ") && text.ends_with(&format!(" {size}")),
                    "{text}"
                );
                self.now = Some((id as usize - 1, 0));
            }
            Op::Stop => {
                assert_eq!(text, "stopped");
                self.now = None;
            }
            Op::List => assert!(text.starts_with('{'), "{text}"),
            Op::Listen => unreachable!("not sent"),
        }
    }

    async fn listen(&mut self) {
        while !self.awaiting.is_empty() {
            self.step().await;
        }
        while self.now.is_some() && self.chunks == 0 {
            self.step().await;
        }
    }
}

async fn run_case(ops: Vec<Op>) {
    let (_, stack, songs) = world();
    let browser = stack.browser().await;
    let awaiting = std::collections::VecDeque::new();
    let mut listener = Listener {
        browser,
        songs,
        now: None,
        awaiting,
        chunks: 0,
    };
    for op in ops {
        match op {
            Op::Listen => listener.listen().await,
            op => listener.send(op).await,
        }
    }
    listener.send(Op::Stop).await;
    while !listener.awaiting.is_empty() {
        listener.step().await;
    }
    assert_eq!(listener.now, None, "the final stop leaves nothing playing");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn no_stale_audio_after_a_switch_or_stop(ops in proptest::collection::vec(any_op(), 1..14)) {
        let (runtime, _, _) = world();
        runtime.block_on(run_case(ops));
    }
}
