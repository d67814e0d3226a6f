//! Measuring the processes during the steady window, and the run's summary.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::Serialize;
use tokio::time::Instant;

use crate::Args;
use crate::listener::Record;
use tapedeck_load::procs::{Usage, usage};

/// CPU and memory of one process over the steady window.
#[derive(Debug, Serialize)]
pub struct ProcessLoad {
    pub name: &'static str,
    pub cpu_percent: f64,
    pub rss_mib_median: f64,
    pub rss_mib_peak: f64,
}

/// Samples `watched` every second until `deadline`.
pub async fn watch(watched: &[(&'static str, u32)], deadline: Instant) -> Vec<ProcessLoad> {
    let start = Instant::now();
    let first: Vec<Option<Usage>> = watched.iter().map(|(_, pid)| usage(*pid)).collect();
    let mut samples: Vec<Vec<u64>> = vec![Vec::new(); watched.len()];
    let mut last = first.clone();
    while Instant::now() + Duration::from_millis(500) < deadline {
        tokio::time::sleep(Duration::from_secs(1).min(deadline - Instant::now())).await;
        for (i, (_, pid)) in watched.iter().enumerate() {
            if let Some(now) = usage(*pid) {
                samples[i].push(now.rss_kib);
                last[i] = Some(now);
            }
        }
    }
    let window = start.elapsed().as_secs_f64().max(1e-3);
    watched
        .iter()
        .enumerate()
        .map(|(i, (name, _))| {
            let (a, b) = (first[i].unwrap_or_default(), last[i].unwrap_or_default());
            samples[i].sort_unstable();
            let median = samples[i]
                .get(samples[i].len() / 2)
                .copied()
                .unwrap_or(b.rss_kib);
            ProcessLoad {
                name,
                cpu_percent: (b.cpu_seconds - a.cpu_seconds) / window * 100.0,
                rss_mib_median: median as f64 / 1024.0,
                rss_mib_peak: b.peak_rss_kib as f64 / 1024.0,
            }
        })
        .collect()
}

/// Everything a run found.
#[derive(Debug, Serialize)]
pub struct Summary {
    pub via: crate::Via,
    pub scenario: crate::listener::Scenario,
    pub listeners: usize,
    pub seconds: f64,
    /// Whether every listener was signed in (`--accounts`).
    pub accounts: bool,
    pub plays: u64,
    pub first_byte_ms_p50: f64,
    pub first_byte_ms_p99: f64,
    pub underruns: u64,
    pub listeners_with_underruns: usize,
    pub bytes_received: u64,
    pub completed: u64,
    pub stops: u64,
    pub bytes_after_stop: u64,
    pub errors: BTreeMap<String, u64>,
    pub processes: Vec<ProcessLoad>,
}

impl Summary {
    pub fn new(args: &Args, records: Vec<Record>, processes: Vec<ProcessLoad>) -> Self {
        let mut first_byte: Vec<f64> = Vec::new();
        let mut errors = BTreeMap::new();
        let sum = |f: fn(&Record) -> u64| records.iter().map(f).sum::<u64>();
        let (plays, underruns, bytes) = (sum(|r| r.plays), sum(|r| r.underruns), sum(|r| r.bytes));
        let (completed, stops) = (sum(|r| r.completed), sum(|r| r.stops));
        let bytes_after_stop = sum(|r| r.bytes_after_stop);
        for record in &records {
            first_byte.extend(&record.first_byte_ms);
            for (kind, n) in &record.errors {
                *errors.entry(kind.clone()).or_default() += n;
            }
        }
        first_byte.sort_by(f64::total_cmp);
        Self {
            via: args.via,
            scenario: args.scenario,
            listeners: args.listeners,
            seconds: args.seconds,
            accounts: args.accounts,
            plays,
            first_byte_ms_p50: percentile(&first_byte, 0.50),
            first_byte_ms_p99: percentile(&first_byte, 0.99),
            underruns,
            listeners_with_underruns: records.iter().filter(|r| r.underruns > 0).count(),
            bytes_received: bytes,
            completed,
            stops,
            bytes_after_stop,
            errors,
            processes,
        }
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} listeners via {:?}, scenario {:?}, {:.0} s at full load{}",
            self.listeners,
            self.via,
            self.scenario,
            self.seconds,
            if self.accounts { ", signed in" } else { "" }
        )?;
        writeln!(
            f,
            "  plays {}, completed {}, stops {}; received {:.1} MB",
            self.plays,
            self.completed,
            self.stops,
            self.bytes_received as f64 / 1e6
        )?;
        writeln!(
            f,
            "  play -> first byte: p50 {:.2} ms, p99 {:.2} ms",
            self.first_byte_ms_p50, self.first_byte_ms_p99
        )?;
        writeln!(
            f,
            "  underruns {} (listeners with any: {}); bytes after a stop: {}",
            self.underruns, self.listeners_with_underruns, self.bytes_after_stop
        )?;
        for p in &self.processes {
            writeln!(
                f,
                "  {}: CPU {:.1}% of a core, RSS median {:.1} MiB, peak {:.1} MiB",
                p.name, p.cpu_percent, p.rss_mib_median, p.rss_mib_peak
            )?;
        }
        if self.errors.is_empty() {
            writeln!(f, "  errors: none")
        } else {
            for (kind, n) in &self.errors {
                writeln!(f, "  error x{n}: {kind}")?;
            }
            Ok(())
        }
    }
}
