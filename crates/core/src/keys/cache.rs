//! Keys already read, so a request is checked against memory instead of a database round trip.
//!
//! A revocation must still take effect at once, also one made by another process (the `keys`
//! command runs beside a serving daemon, on the same database):
//! - this process forgets every key before it writes a revocation and again after, and a key read
//!   from the database is kept only if nothing was forgotten while it was being read, so a read
//!   that raced the revocation is not kept;
//! - every process that revokes a key then rewrites a marker file beside the database; each
//!   request looks at the marker's modification time (one `stat`, no database) and forgets every
//!   key when it changed, or changed less than [`SETTLE`] ago (file times are coarse).
//!
//! Expiry needs nothing: it is checked against the kept row at each request.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use super::db::KeyRow;

/// How long after the marker changed the cache stays off.
const SETTLE: Duration = Duration::from_secs(1);

#[derive(Debug)]
pub(super) struct KeyCache {
    state: Mutex<State>,
    marker: PathBuf,
}

#[derive(Debug, Default)]
struct State {
    rows: HashMap<String, KeyRow>,
    /// Rises each time every key is forgotten.
    generation: u64,
    /// The marker's modification time when last looked at.
    marker_seen: Option<SystemTime>,
}

impl KeyCache {
    /// A cache whose changes from other processes are announced by `marker`.
    pub(super) fn new(marker: PathBuf) -> Self {
        let marker_seen = modified(&marker);
        KeyCache {
            state: Mutex::new(State {
                marker_seen,
                ..State::default()
            }),
            marker,
        }
    }

    /// The kept row of `id`, if any (after forgetting everything if another process changed the
    /// keys), and the generation to hand back to [`KeyCache::keep`] after reading it.
    pub(super) fn get(&self, id: &str) -> (Option<KeyRow>, u64) {
        let now = modified(&self.marker);
        // File times are coarse (a few ms): a second change inside the same tick would leave the
        // time as it was. So for a second after a change, nothing is trusted from memory.
        let recent = now.is_some_and(|t| t.elapsed().map_or(true, |age| age < SETTLE));
        let mut state = self.lock();
        if now != state.marker_seen || recent {
            state.marker_seen = now;
            state.rows.clear();
            state.generation += 1;
        }
        (state.rows.get(id).cloned(), state.generation)
    }

    /// Keeps `row`, read from the database in `generation`, unless keys were forgotten since.
    pub(super) fn keep(&self, row: KeyRow, generation: u64) {
        let mut state = self.lock();
        if state.generation == generation {
            state.rows.insert(row.id.clone(), row);
        }
    }

    /// Records a `last_used_at` written to the database.
    pub(super) fn used(&self, id: &str, at: i64) {
        if let Some(row) = self.lock().rows.get_mut(id) {
            row.last_used_at = Some(at);
        }
    }

    /// Forgets every key (around a revocation in this process).
    pub(super) fn forget(&self) {
        let mut state = self.lock();
        state.rows.clear();
        state.generation += 1;
    }

    /// Tells the other processes on this database to forget their keys: rewrites the marker.
    pub(super) fn announce(&self) -> std::io::Result<()> {
        let stamp = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        std::fs::write(&self.marker, stamp.to_string())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn modified(path: &std::path::Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}
