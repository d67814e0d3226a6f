//! Following the disk: the index is compared with the music folder again when the filesystem
//! says something changed (notify, debounced), every so often (for filesystems that say
//! nothing), and once after a warm start. What changed replaces the library served, and every
//! control connection is told (`event library changed`, PROTOCOL.md 6.6). Plays in progress
//! are not touched: they hold their open file.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use notify::{EventKind, RecursiveMode, Watcher};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, info, warn};

use crate::config::Follow;
use crate::index::Index;
use crate::shared::Shared;

/// However busy the folder, a rescan starts at most this many quiet periods after the first
/// notification.
const MAX_SETTLE: u32 = 5;

/// The background task that keeps the library in step with the disk.
#[derive(Debug)]
pub struct Follower {
    /// Tells a rescan in progress to give up (it checks between files).
    cancel: Arc<AtomicBool>,
    stop: CancellationToken,
    task: JoinHandle<()>,
}

impl Follower {
    /// Starts following: compares once when `compare_first` (a warm start) or when following
    /// (after the watch is set up), then as `follow` says (`None`: never again).
    pub fn spawn(
        index: Index,
        shared: Arc<Shared>,
        follow: Option<Follow>,
        compare_first: bool,
    ) -> Self {
        let cancel = Arc::new(AtomicBool::new(false));
        let stop = CancellationToken::new();
        let task = tokio::spawn(run(
            index,
            shared,
            follow,
            compare_first,
            cancel.clone(),
            stop.clone(),
        ));
        Self { cancel, stop, task }
    }

    /// Stops following, giving up a rescan in progress, and waits for it.
    pub async fn stop(self) {
        self.cancel.store(true, Ordering::Relaxed);
        self.stop.cancel();
        let _ = self.task.await;
    }
}

async fn run(
    index: Index,
    shared: Arc<Shared>,
    follow: Option<Follow>,
    compare_first: bool,
    cancel: Arc<AtomicBool>,
    stop: CancellationToken,
) {
    let mut index = Some(index);
    let Some(follow) = follow else {
        if compare_first {
            rescan(index, &shared, &cancel).await;
        }
        return;
    };
    let wake = Arc::new(Notify::new());
    let watcher = match (follow.watch, &index) {
        (true, Some(index)) => watch(index.root(), wake.clone()),
        _ => None,
    };
    // Once watched, compared again: what changed between the first scan (or the index of a
    // warm start) and the watch is found now, and what changes later is notified.
    index = rescan(index, &shared, &cancel).await;
    info!(
        notifications = watcher.is_some(),
        rescan_seconds = follow.rescan_every.map(|e| e.as_secs()),
        "following the music folder"
    );
    let every = follow.rescan_every.unwrap_or(Duration::MAX);
    let mut ticks = tokio::time::interval_at(Instant::now() + every.min(YEAR), every.min(YEAR));
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    while index.is_some() {
        tokio::select! {
            () = stop.cancelled() => return,
            () = wake.notified() => settle(&wake, follow.debounce, &stop).await,
            _ = ticks.tick(), if follow.rescan_every.is_some() => {}
        }
        if stop.is_cancelled() {
            return;
        }
        index = rescan(index, &shared, &cancel).await;
    }
}

/// A long time: the period of a rescan that never comes.
const YEAR: Duration = Duration::from_secs(365 * 24 * 3600);

/// Waits until the folder has been quiet for `quiet` (or `MAX_SETTLE` of them have passed).
async fn settle(wake: &Notify, quiet: Duration, stop: &CancellationToken) {
    let deadline = Instant::now() + quiet * MAX_SETTLE;
    loop {
        tokio::select! {
            () = wake.notified() => {}
            () = tokio::time::sleep(quiet) => return,
            () = tokio::time::sleep_until(deadline) => return,
            () = stop.cancelled() => return,
        }
    }
}

/// Compares the index with the disk off the async threads; serves what changed. The index
/// comes back unless the comparison panicked (then following stops, and says so).
async fn rescan(
    index: Option<Index>,
    shared: &Arc<Shared>,
    cancel: &Arc<AtomicBool>,
) -> Option<Index> {
    let mut index = index?;
    let flag = cancel.clone();
    let started = std::time::Instant::now();
    // The library is read back from the index only when something changed.
    let done = tokio::task::spawn_blocking(move || {
        let result = index.reconcile(&flag).and_then(|changed| {
            let wanted = changed && !flag.load(Ordering::Relaxed);
            wanted.then(|| index.stored()).transpose()
        });
        (index, result)
    })
    .await;
    let seconds = started.elapsed().as_secs_f64();
    match done {
        Ok((index, Ok(Some(library)))) => {
            info!(
                songs = library.songs().len(),
                seconds, "the library changed"
            );
            shared.replace_library(library);
            Some(index)
        }
        Ok((index, Ok(None))) => {
            debug!(
                songs = shared.library().songs().len(),
                seconds, "the library is as it was"
            );
            Some(index)
        }
        Ok((index, Err(err))) => {
            warn!(error = %err, "the index could not be compared with the disk; serving it as it was");
            Some(index)
        }
        Err(err) => {
            error!(error = %err, "the comparison with the disk failed; the library is no longer followed");
            None
        }
    }
}

/// Filesystem notifications for everything below `root`, waking `wake`; `None` (with a
/// warning) where the system cannot give them: the periodic rescan is then all there is.
fn watch(root: &Path, wake: Arc<Notify>) -> Option<notify::RecommendedWatcher> {
    let handler = move |event: notify::Result<notify::Event>| {
        if event.is_ok_and(|e| !matches!(e.kind, EventKind::Access(_))) {
            wake.notify_one();
        }
    };
    let watcher = notify::recommended_watcher(handler).and_then(|mut watcher| {
        watcher.watch(root, RecursiveMode::Recursive)?;
        Ok(watcher)
    });
    match watcher {
        Ok(watcher) => Some(watcher),
        Err(err) => {
            warn!(error = %err, dir = %root.display(), "no filesystem notifications: changes are seen at the next periodic rescan");
            None
        }
    }
}
