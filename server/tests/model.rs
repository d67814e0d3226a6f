//! Model-based test: random command sequences from several clients, pipelined or not, with
//! claims, partial reads and strangers (alone, or crowds at once from several addresses), against the real server; every reply and every data
//! byte is checked against a small reference model of what each client must receive.

mod common;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::OnceLock;

use common::{Client, PATIENCE, TestServer, claim, connect_port, demo_music, to_itself};
use proptest::prelude::*;
use tapedeck_protocol::{Command, Reply, SongId};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::runtime::Runtime;

const CLIENTS: usize = 3;
const NAMES: [&str; 4] = [
    "01 Morning Tape.mp3",
    "02 Night Drive.flac",
    "03 Paper Boats.ogg",
    "04 Small Hours.wav",
];

/// Lines that are not commands, and the error each must get (no state changes).
const BAD: [(&str, &str); 9] = [
    ("", "error empty line"),
    ("   ", "error empty line"),
    ("dance", "error unknown command"),
    ("play", "error missing song id"),
    ("play x", "error invalid song id"),
    ("play 99999999999", "error invalid song id"),
    ("stop now", "error unexpected argument"),
    ("list\u{1}", "error invalid character"),
    ("info 1 2", "error unexpected argument"),
];

#[derive(Debug, Clone)]
enum Cmd {
    List,
    Info,
    InfoOf(u32),
    /// `play <id>` spelt as `play`, `PLAY` or `p`.
    Play(u32, u8),
    Stop,
    Quit,
    Bad(usize),
}

impl Cmd {
    fn line(&self) -> String {
        match self {
            Cmd::List => "list".into(),
            Cmd::Info => "info".into(),
            Cmd::InfoOf(id) => format!("info {id}"),
            Cmd::Play(id, spelling) => {
                format!("{} {id}", ["play", "PLAY", "p"][*spelling as usize])
            }
            Cmd::Stop => "stop".into(),
            Cmd::Quit => "quit".into(),
            Cmd::Bad(i) => BAD[*i].0.into(),
        }
    }
}

#[derive(Debug, Clone)]
enum Op {
    /// These commands in one write.
    Send(usize, Vec<Cmd>),
    /// Claim the pending data port.
    Claim(usize),
    /// Read up to this many bytes of the current play.
    Read(usize, usize),
    /// Read the current play to its end.
    Drain(usize),
    /// Someone else knocks on the pending data port with a wrong token.
    Stranger(usize),
    /// Strangers knock on the pending data port all at once, from the client's address or
    /// from others, each in one of `Knock`'s ways, and leave; they get nothing.
    Crowd(usize, Vec<(bool, Knock)>),
}

/// What a stranger in a crowd sends before it leaves.
#[derive(Debug, Clone, Copy)]
enum Knock {
    Nothing,
    WrongToken,
    HalfToken,
    EmptyLine,
}

fn any_cmd() -> impl Strategy<Value = Cmd> {
    prop_oneof![
        1 => Just(Cmd::List),
        1 => Just(Cmd::Info),
        1 => (0u32..=5).prop_map(Cmd::InfoOf),
        6 => (0u32..=5, 0u8..3).prop_map(|(id, s)| Cmd::Play(id, s)),
        3 => Just(Cmd::Stop),
        1 => Just(Cmd::Quit),
        2 => (0..BAD.len()).prop_map(Cmd::Bad),
    ]
}

fn any_op() -> impl Strategy<Value = Op> {
    let client = 0..CLIENTS;
    prop_oneof![
        5 => (client.clone(), proptest::collection::vec(any_cmd(), 1..4)).prop_map(|(c, cmds)| Op::Send(c, cmds)),
        4 => client.clone().prop_map(Op::Claim),
        3 => (client.clone(), 1usize..300_000).prop_map(|(c, n)| Op::Read(c, n)),
        1 => client.clone().prop_map(Op::Drain),
        1 => client.clone().prop_map(Op::Stranger),
        1 => (client, proptest::collection::vec((any::<bool>(), any_knock()), 1..12))
            .prop_map(|(c, crowd)| Op::Crowd(c, crowd)),
    ]
}

fn any_knock() -> impl Strategy<Value = Knock> {
    prop_oneof![
        Just(Knock::Nothing),
        Just(Knock::WrongToken),
        Just(Knock::HalfToken),
        Just(Knock::EmptyLine),
    ]
}

/// One runtime and server for every case, and the songs' bytes by id - 1.
fn world() -> &'static (Runtime, TestServer, Vec<Vec<u8>>) {
    static WORLD: OnceLock<(Runtime, TestServer, Vec<Vec<u8>>)> = OnceLock::new();
    WORLD.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let server = runtime.block_on(TestServer::demo());
        let songs = NAMES
            .iter()
            .map(|n| std::fs::read(demo_music().join(n)).expect("song"))
            .collect();
        (runtime, server, songs)
    })
}

/// What the model says a client's current play is.
struct Playing {
    song: usize,
    port: u16,
    token: String,
    /// The claimed data connection and the bytes read from it so far.
    data: Option<(TcpStream, usize)>,
}

/// One client: its control connection and its model state.
struct Live {
    control: Option<Client>,
    play: Option<Playing>,
}

struct Case<'a> {
    server: &'a TestServer,
    songs: &'a [Vec<u8>],
    clients: Vec<Live>,
}

impl Case<'_> {
    async fn op(&mut self, op: Op) {
        match op {
            Op::Send(c, cmds) => self.send(c, cmds).await,
            Op::Claim(c) => {
                let addr = self.server.addr;
                if let Some(p) = self.clients[c].play.as_mut().filter(|p| p.data.is_none()) {
                    p.data = Some((claim(addr, p.port, &p.token).await, 0));
                }
            }
            Op::Read(c, n) => self.read(c, Some(n)).await,
            Op::Drain(c) => self.read(c, None).await,
            Op::Stranger(c) => {
                if let Some(p) = self.clients[c].play.as_ref().filter(|p| p.data.is_none()) {
                    let wrong = "0".repeat(32);
                    assert_eq!(
                        knock(self.server, p.port, &wrong).await,
                        0,
                        "a stranger got data"
                    );
                }
            }
            Op::Crowd(c, crowd) => {
                if let Some(p) = self.clients[c].play.as_ref().filter(|p| p.data.is_none()) {
                    let got = crowd_knocks(self.server, p.port, &p.token, &crowd).await;
                    assert_eq!(got, 0, "a stranger in a crowd got data");
                }
            }
        }
    }

    async fn send(&mut self, c: usize, mut cmds: Vec<Cmd>) {
        let Some(control) = self.clients[c].control.as_mut() else {
            return;
        };
        // Nothing after `quit` is read by the server.
        if let Some(quit) = cmds.iter().position(|c| matches!(c, Cmd::Quit)) {
            cmds.truncate(quit + 1);
        }
        let batch: String = cmds.iter().map(|c| c.line() + "\n").collect();
        control.send(batch.as_bytes()).await;
        for cmd in cmds {
            self.answer(c, &cmd).await;
        }
    }

    /// Reads the reply to `cmd` from client `c` and checks it, and what it implies.
    async fn answer(&mut self, c: usize, cmd: &Cmd) {
        let control = self.clients[c].control.as_mut().expect("open");
        let line = control.line().await.expect("a reply");
        match cmd {
            Cmd::List => assert_eq!(line, expected_list()),
            Cmd::Info => match Reply::parse(&Command::Info(None), &line) {
                Ok(Reply::Info(songs)) => {
                    let ids: Vec<u32> = songs.iter().map(|s| s.id.0).collect();
                    assert_eq!(ids, [1, 2, 3, 4]);
                }
                other => panic!("info: {other:?}"),
            },
            Cmd::InfoOf(id @ 1..=4) => match Reply::parse(&Command::Info(Some(SongId(*id))), &line)
            {
                Ok(Reply::Song(song)) => assert_eq!(
                    (song.id.0, song.name.as_str()),
                    (*id, NAMES[*id as usize - 1])
                ),
                other => panic!("info {id}: {other:?}"),
            },
            Cmd::InfoOf(_) => assert_eq!(line, "error no such song"),
            Cmd::Play(id, _) => {
                // Any well-formed play first ends the current one.
                self.ended(c).await;
                if (1..=4).contains(id) {
                    let song = *id as usize - 1;
                    match Reply::parse(&Command::Play(SongId(*id), None), &line) {
                        Ok(Reply::Port {
                            port,
                            token,
                            bytes,
                            skip: None,
                        }) => {
                            assert_eq!(bytes, self.songs[song].len() as u64);
                            self.clients[c].play = Some(Playing {
                                song,
                                port,
                                token,
                                data: None,
                            });
                        }
                        other => panic!("play {id}: {other:?}"),
                    }
                } else {
                    assert_eq!(line, "error no such song");
                }
            }
            Cmd::Stop => {
                assert_eq!(line, "stopped");
                self.ended(c).await;
            }
            Cmd::Quit => {
                assert_eq!(line, "bye");
                self.ended(c).await;
                let mut control = self.clients[c].control.take().expect("open");
                control.expect_closed().await;
            }
            Cmd::Bad(i) => assert_eq!(line, BAD[*i].1, "{:?}", BAD[*i].0),
        }
    }

    /// The model says client `c`'s play has ended: its data connection ends, having carried
    /// only a prefix of the song, and an unclaimed port gives nothing to its own token.
    async fn ended(&mut self, c: usize) {
        let Some(play) = self.clients[c].play.take() else {
            return;
        };
        let song = &self.songs[play.song];
        match play.data {
            Some((mut data, offset)) => {
                let mut rest = Vec::new();
                let read = tokio::time::timeout(PATIENCE, data.read_to_end(&mut rest));
                let _ = read.await.expect("an ended play's connection closes");
                assert!(offset + rest.len() <= song.len());
                assert!(rest == song[offset..offset + rest.len()], "wrong bytes");
            }
            None => assert_eq!(knock(self.server, play.port, &play.token).await, 0),
        }
    }

    /// Reads up to `n` bytes (or to the end) of client `c`'s play and checks them.
    async fn read(&mut self, c: usize, n: Option<usize>) {
        let Some(play) = self.clients[c].play.as_mut() else {
            return;
        };
        let Some((data, offset)) = play.data.as_mut() else {
            return;
        };
        let song = &self.songs[play.song];
        let mut buf = vec![0u8; 64 * 1024];
        let mut want = n.unwrap_or(usize::MAX);
        while want > 0 {
            let k = want.min(buf.len());
            let read = tokio::time::timeout(PATIENCE, data.read(&mut buf[..k]));
            let got = read.await.expect("data in time").expect("read data");
            if got == 0 {
                // The end: the whole song, and the server is idle again.
                assert_eq!(*offset, song.len(), "the stream ended early");
                self.clients[c].play = None;
                return;
            }
            assert!(*offset + got <= song.len(), "more bytes than the song");
            assert!(
                buf[..got] == song[*offset..*offset + got],
                "wrong bytes at {offset}"
            );
            *offset += got;
            want -= got;
        }
    }
}

/// Connects to a data port with `token`; returns the bytes received (0 if refused or closed).
async fn knock(server: &TestServer, port: u16, token: &str) -> usize {
    let Some(mut socket) = connect_port(server.addr, port).await else {
        return 0;
    };
    let _ = socket.write_all(format!("{token}\n").as_bytes()).await;
    let mut got = Vec::new();
    let read = tokio::time::timeout(PATIENCE, socket.read_to_end(&mut got));
    let _ = read.await.expect("a knock is answered or closed in time");
    got.len()
}

/// Strangers knock on `port` all at once and leave; returns the octets they got in all.
async fn crowd_knocks(
    server: &TestServer,
    port: u16,
    token: &str,
    crowd: &[(bool, Knock)],
) -> usize {
    let mut knocks = tokio::task::JoinSet::new();
    for (i, &(same_address, knock)) in crowd.iter().enumerate() {
        let from = if same_address {
            Ipv4Addr::LOCALHOST
        } else {
            Ipv4Addr::new(127, 0, 0, 2 + i as u8)
        };
        let line = match knock {
            Knock::Nothing => String::new(),
            Knock::WrongToken => format!("{}\n", "f".repeat(32)),
            Knock::HalfToken => token[..16].to_owned(),
            Knock::EmptyLine => "\n".to_owned(),
        };
        let addr = SocketAddr::new(server.addr.ip(), port);
        knocks.spawn(async move {
            let socket = TcpSocket::new_v4().expect("socket");
            socket.bind(SocketAddr::from((from, 0))).expect("bind");
            let Ok(mut stream) = socket.connect(addr).await else {
                return 0;
            };
            if to_itself(&stream) {
                return 0;
            }
            let _ = stream.write_all(line.as_bytes()).await;
            let _ = stream.shutdown().await;
            let mut got = Vec::new();
            let read = tokio::time::timeout(PATIENCE, stream.read_to_end(&mut got));
            let _ = read.await.expect("a stranger is closed in time");
            got.len()
        });
    }
    let mut total = 0;
    while let Some(got) = knocks.join_next().await {
        total += got.expect("knock");
    }
    total
}

fn expected_list() -> String {
    let members: Vec<String> = NAMES
        .iter()
        .enumerate()
        .map(|(i, n)| format!("\"{n}\":{}", i + 1))
        .collect();
    format!("{{{}}}", members.join(","))
}

async fn run_case(server: &TestServer, songs: &[Vec<u8>], ops: Vec<Op>) {
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        clients.push(Live {
            control: Some(server.client().await),
            play: None,
        });
    }
    let mut case = Case {
        server,
        songs,
        clients,
    };
    for op in ops {
        case.op(op).await;
    }
    // Nothing unasked is waiting on any control connection: the next line answers `stop`.
    for c in 0..CLIENTS {
        case.send(c, vec![Cmd::Stop]).await;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn every_client_gets_what_the_model_says(ops in proptest::collection::vec(any_op(), 1..40)) {
        let (runtime, server, songs) = world();
        runtime.block_on(run_case(server, songs, ops));
    }
}
