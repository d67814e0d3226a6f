//! One simulated listener: plays songs on a real-time clock and records what happened.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::{Instant, sleep_until};

use crate::clock::Clock;
use crate::transport::{Conn, Incoming, Target};

/// What every listener shares.
#[derive(Debug)]
pub struct Plan {
    pub target: Target,
    pub scenario: Scenario,
    /// Songs to play: id and byte rate (bytes per second of playing time).
    pub songs: Vec<(u32, f64)>,
    pub prebuffer: Duration,
    pub seed: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scenario {
    /// Listen to whole songs, one after another.
    Steady,
    /// Listen 1-10 s, then switch songs or stop and pause, at random.
    Churn,
    /// Listen 10 s, stop, pause 2 s, and again.
    Stop,
}

/// One listener's record.
#[derive(Debug, Default)]
pub struct Record {
    pub plays: u64,
    /// Milliseconds from sending `play` to the first byte of audio.
    pub first_byte_ms: Vec<f64>,
    pub underruns: u64,
    pub bytes: u64,
    pub stops: u64,
    pub bytes_after_stop: u64,
    pub completed: u64,
    pub errors: BTreeMap<String, u64>,
}

impl Record {
    fn error(&mut self, reason: &str) {
        // "... after 123 of 456 bytes" differs every time; count the kind.
        let kind = reason.split(" after ").next().unwrap_or(reason);
        *self.errors.entry(kind.to_owned()).or_default() += 1;
    }
}

/// A small deterministic generator (xorshift64*): churn is reproducible from `--seed`.
#[derive(Debug)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n.max(1)
    }

    fn millis(&mut self, from: u64, to: u64) -> Duration {
        Duration::from_millis(from + self.below(to - from))
    }
}

/// How a play ended.
enum Ending {
    /// The song finished (or was cut short by the server: an error is recorded).
    Over,
    /// The listener's time for this song (or the run) is up; it is still playing.
    Enough,
}

/// Runs listener `index` from `start` until `deadline`.
pub async fn run(index: usize, plan: Arc<Plan>, start: Instant, deadline: Instant) -> Record {
    let mut record = Record::default();
    let mut rng = Rng::new(plan.seed.wrapping_add(index as u64));
    sleep_until(start).await;
    while Instant::now() < deadline {
        let conn = match Conn::connect(&plan.target).await {
            Ok(conn) => conn,
            Err(e) => {
                record.error(&format!("{e:#}"));
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if let Err(e) = session(conn, index, &plan, &mut rng, &mut record, deadline).await {
            record.error(&format!("{e:#}"));
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
    record
}

async fn session(
    mut conn: Conn,
    index: usize,
    plan: &Plan,
    rng: &mut Rng,
    record: &mut Record,
    deadline: Instant,
) -> anyhow::Result<()> {
    let mut turn = index;
    while Instant::now() < deadline {
        let (id, rate) = plan.songs[turn % plan.songs.len()];
        turn += match plan.scenario {
            Scenario::Churn => 1 + rng.below(plan.songs.len() as u64) as usize,
            _ => 1,
        };
        let listen = match plan.scenario {
            Scenario::Steady => Duration::MAX,
            Scenario::Churn => rng.millis(1000, 10_000),
            Scenario::Stop => Duration::from_secs(10),
        };
        let until = deadline.min(Instant::now().checked_add(listen).unwrap_or(deadline));
        match listen_to(&mut conn, id, rate, plan.prebuffer, until, record).await? {
            Ending::Over => {}
            Ending::Enough if until >= deadline => {}
            Ending::Enough => {
                let stop = plan.scenario == Scenario::Stop || rng.below(2) == 0;
                if stop {
                    record.stops += 1;
                    record.bytes_after_stop += conn.stop().await?;
                    let pause = match plan.scenario {
                        Scenario::Stop => Duration::from_secs(2),
                        _ => rng.millis(500, 2000),
                    };
                    record.bytes_after_stop += conn.idle(pause).await;
                }
            }
        }
    }
    Ok(())
}

/// Plays `id` until it ends or `until`.
async fn listen_to(
    conn: &mut Conn,
    id: u32,
    rate: f64,
    prebuffer: Duration,
    until: Instant,
    record: &mut Record,
) -> anyhow::Result<Ending> {
    let asked = Instant::now();
    let octets = conn.play(id).await?;
    record.plays += 1;
    let mut clock = Clock::new(rate, prebuffer, octets);
    let ending = loop {
        let incoming = tokio::select! {
            incoming = conn.next() => incoming?,
            () = sleep_until(until) => break Ending::Enough,
        };
        let now = Instant::now();
        match incoming {
            Incoming::Audio(n) => {
                if clock.received() == 0 {
                    record
                        .first_byte_ms
                        .push((now - asked).as_secs_f64() * 1000.0);
                }
                clock.receive(now, n);
            }
            Incoming::End => {
                record.completed += 1;
                break Ending::Over;
            }
            Incoming::Cut(reason) => {
                record.error(&reason);
                break Ending::Over;
            }
        }
    };
    record.underruns += u64::from(clock.finish(Instant::now()));
    record.bytes += clock.received();
    Ok(ending)
}
