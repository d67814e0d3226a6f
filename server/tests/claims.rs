//! PROTOCOL.md section 7.1, claim by claim: strangers, whatever their number, timing, address
//! or behaviour, neither get a play's octets nor keep its owner from getting all of them.

mod common;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use common::{Client, PATIENCE, TestServer, claim, demo_music, read_all, sha256};
use tapedeck_server::Config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::task::JoinSet;

/// What a stranger does once connected to a data port.
#[derive(Debug, Clone, Copy)]
enum Stranger {
    /// Closes without a word.
    Leaves,
    /// Sends a wrong token.
    WrongToken,
    /// Sends half a token, then closes.
    Partial,
    /// Sends an empty line.
    EmptyLine,
    /// Sends the right token (it overheard it) from the wrong address.
    RightToken,
}

const BEHAVIOURS: [Stranger; 4] = [
    Stranger::Leaves,
    Stranger::WrongToken,
    Stranger::Partial,
    Stranger::EmptyLine,
];

/// A server whose unclaimed ports wait far longer than any test: a claim that hangs shows as
/// a failure, not as a port that quietly timed out.
async fn patient_server() -> TestServer {
    let mut config = Config::new(demo_music());
    config.pacing = None;
    config.claim_timeout = PATIENCE * 2;
    TestServer::start(config).await
}

/// A connection to `port` from `from`.
async fn connect_from(from: Ipv4Addr, server: SocketAddr, port: u16) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::from((from, 0)))?;
    socket.connect(SocketAddr::new(server.ip(), port)).await
}

/// Plays `behaviour` on `stream` and returns the octets it received (the server closes it).
async fn act(mut stream: TcpStream, behaviour: Stranger, token: &str) -> usize {
    let line = match behaviour {
        Stranger::Leaves => return 0,
        Stranger::WrongToken => format!("{}\n", "0".repeat(32)),
        Stranger::Partial => token[..16].to_owned(),
        Stranger::EmptyLine => "\n".to_owned(),
        Stranger::RightToken => format!("{token}\n"),
    };
    let _ = stream.write_all(line.as_bytes()).await;
    if matches!(behaviour, Stranger::Partial) {
        let _ = stream.shutdown().await;
    }
    let mut got = Vec::new();
    let read = tokio::time::timeout(PATIENCE, stream.read_to_end(&mut got));
    let _ = read.await.expect("the server closes a stranger");
    got.len()
}

/// `client` plays song 1: (port, token).
async fn start_play(client: &mut Client) -> (u16, String) {
    let (port, token, _) = client.play(1).await;
    (port, token)
}

/// The owner claims `port` and must get every octet of song 1.
async fn expect_whole_song(server: &TestServer, port: u16, token: &str) {
    let file = std::fs::read(demo_music().join("01 Morning Tape.mp3")).expect("read");
    let got = read_all(&mut claim(server.addr, port, token).await).await;
    assert_eq!(got.len(), file.len(), "the owner's claim was not served");
    assert_eq!(sha256(&got), sha256(&file));
}

#[tokio::test]
async fn strangers_arriving_together_and_leaving_do_not_stop_the_claim() {
    let server = patient_server().await;
    let mut client = server.client().await;
    for count in [2, 4, 7, 8, 17, 50] {
        for behaviour in BEHAVIOURS {
            let (port, token) = start_play(&mut client).await;
            // All connect at once, then each acts.
            let mut connects = JoinSet::new();
            for _ in 0..count {
                connects.spawn(TcpStream::connect((server.addr.ip(), port)));
            }
            let mut acts = JoinSet::new();
            while let Some(stream) = connects.join_next().await {
                let (stream, token) = (stream.expect("task").expect("connect"), token.clone());
                acts.spawn(async move { act(stream, behaviour, &token).await });
            }
            // Every stranger has been answered (closed) before the owner comes.
            while let Some(got) = acts.join_next().await {
                assert_eq!(got.expect("stranger"), 0, "{count} x {behaviour:?}");
            }
            expect_whole_song(&server, port, &token).await;
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn strangers_one_after_another_do_not_stop_the_claim() {
    let server = patient_server().await;
    let mut client = server.client().await;
    for round in 0..24 {
        let (port, token) = start_play(&mut client).await;
        for behaviour in [BEHAVIOURS[round % 4], BEHAVIOURS[(round + 1) % 4]] {
            let stream = TcpStream::connect((server.addr.ip(), port)).await;
            assert_eq!(act(stream.expect("connect"), behaviour, &token).await, 0);
        }
        expect_whole_song(&server, port, &token).await;
    }
    server.stop().await;
}

#[tokio::test]
async fn silent_strangers_filling_every_slot_cannot_lock_the_owner_out() {
    let server = patient_server().await;
    let mut client = server.client().await;
    let (port, token) = start_play(&mut client).await;
    let mut silent = Vec::new();
    for _ in 0..100 {
        silent.push(
            TcpStream::connect((server.addr.ip(), port))
                .await
                .expect("connect"),
        );
    }
    // The owner connects after all of them (the server accepts in arrival order).
    expect_whole_song(&server, port, &token).await;
    for mut stream in silent {
        let mut got = Vec::new();
        let read = tokio::time::timeout(PATIENCE, stream.read_to_end(&mut got));
        let _ = read.await.expect("every silent stranger is closed");
        assert!(got.is_empty());
    }
    server.stop().await;
}

#[tokio::test]
async fn a_silent_stranger_is_closed_after_the_claim_line_timeout() {
    let server = patient_server().await;
    let mut client = server.client().await;
    let (port, token) = start_play(&mut client).await;
    let mut silent = TcpStream::connect((server.addr.ip(), port))
        .await
        .expect("connect");
    let mut got = Vec::new();
    // The port itself waits 60 s to be claimed; the silent connection is closed long before.
    let read = tokio::time::timeout(PATIENCE, silent.read_to_end(&mut got));
    let _ = read.await.expect("closed before the claim timeout");
    assert!(got.is_empty());
    expect_whole_song(&server, port, &token).await;
    server.stop().await;
}

#[tokio::test]
async fn a_hundred_strangers_from_other_addresses_even_with_the_token_get_nothing() {
    let server = patient_server().await;
    let mut client = server.client().await;
    let (port, token) = start_play(&mut client).await;
    let mut acts = JoinSet::new();
    for i in 0..100u8 {
        let addr = server.addr;
        let token = token.clone();
        acts.spawn(async move {
            let from = Ipv4Addr::new(127, 0, 0, 2 + i);
            match connect_from(from, addr, port).await {
                Ok(stream) => act(stream, Stranger::RightToken, &token).await,
                Err(_) => 0,
            }
        });
    }
    expect_whole_song(&server, port, &token).await;
    while let Some(got) = acts.join_next().await {
        assert_eq!(got.expect("stranger"), 0, "a stranger got octets");
    }
    server.stop().await;
}

/// Strangers from the owner's address and from others, of every behaviour, knock in a loop
/// while plays are claimed: every play is served whole.
#[tokio::test]
async fn a_storm_of_strangers_during_claims_costs_no_play() {
    let server = patient_server().await;
    let mut client = server.client().await;
    for _ in 0..10 {
        let (port, token) = start_play(&mut client).await;
        let stop = tokio_util::sync::CancellationToken::new();
        let mut storm = JoinSet::new();
        for i in 0..20u8 {
            let (addr, token, stop) = (server.addr, token.clone(), stop.clone());
            storm.spawn(async move {
                let from = if i % 2 == 0 {
                    Ipv4Addr::LOCALHOST
                } else {
                    Ipv4Addr::new(127, 0, 0, 2 + i)
                };
                let mut n = 0usize;
                while !stop.is_cancelled() {
                    let behaviour = BEHAVIOURS[n % BEHAVIOURS.len()];
                    n += 1;
                    let Ok(stream) = connect_from(from, addr, port).await else {
                        break;
                    };
                    assert_eq!(act(stream, behaviour, &token).await, 0);
                }
            });
        }
        expect_whole_song(&server, port, &token).await;
        stop.cancel();
        while let Some(done) = storm.join_next().await {
            done.expect("a stranger got nothing");
        }
    }
    server.stop().await;
}

#[test]
fn loopback_has_more_than_one_address() {
    // The tests above need 127.0.0.2 and up, which Linux routes to loopback.
    let socket = std::net::UdpSocket::bind((IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)), 0));
    assert!(socket.is_ok());
}
