//! The failed-authentication limiter (kept apart from the extractor in [`crate::auth`], which the
//! shared state does not need).

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::Digest;

/// Counts failed authentications (unknown or malformed keys) in a sliding window, twice: per
/// client address and presented key, and per client address over all keys (a higher limit, for
/// scanners that try a new key each time). Past either limit, such requests get 429 instead of
/// 401; requests with a valid key are never looked at here. Valid keys are 190-bit random
/// strings, so this is about keeping the log quiet and not serving scanners at full speed.
pub struct AuthLimiter {
    window: Duration,
    per_key: usize,
    per_client: usize,
    state: Mutex<LimiterState>,
}

#[derive(Default)]
struct LimiterState {
    buckets: HashMap<Bucket, VecDeque<Instant>>,
    swept_at: Option<Instant>,
}

#[derive(Clone, PartialEq, Eq, Hash)]
enum Bucket {
    Key(IpAddr, [u8; 16]),
    Client(IpAddr),
}

/// How many buckets are kept before stale ones are swept.
const MAX_BUCKETS: usize = 4096;

impl AuthLimiter {
    /// A limiter allowing `per_key` failures with one presented key, and `per_client` with any
    /// keys, from one address per `window`.
    pub fn new(per_key: usize, per_client: usize, window: Duration) -> Self {
        AuthLimiter {
            window,
            per_key,
            per_client,
            state: Mutex::default(),
        }
    }

    /// How long `ip` must wait before a credential it presents (`presented`) is looked at again,
    /// if it is over a limit now; records nothing. For credentials judged by their content (a
    /// pairing code), which must not be judged at all past the limit.
    pub fn waiting(&self, ip: IpAddr, presented: &[u8]) -> Option<Duration> {
        let guard = self.state.lock().ok()?;
        let now = Instant::now();
        self.limits(ip, presented)
            .into_iter()
            .find_map(|(bucket, max)| {
                let entry = guard.buckets.get(&bucket)?;
                let recent: Vec<&Instant> = entry
                    .iter()
                    .filter(|t| now.duration_since(**t) <= self.window)
                    .collect();
                (recent.len() >= max).then(|| {
                    let oldest = recent.first().map(|t| **t).unwrap_or(now);
                    self.window.saturating_sub(now.duration_since(oldest))
                })
            })
    }

    /// The two buckets a failure by `ip` with `presented` counts in, each with its limit.
    fn limits(&self, ip: IpAddr, presented: &[u8]) -> [(Bucket, usize); 2] {
        let digest = sha2::Sha256::digest(presented);
        let mut fingerprint = [0u8; 16];
        fingerprint.copy_from_slice(&digest[..16]);
        [
            (Bucket::Key(ip, fingerprint), self.per_key),
            (Bucket::Client(ip), self.per_client),
        ]
    }

    /// Records a failure by `ip` with the presented credential; returns how long to wait if this
    /// one is over a limit. A request over either limit is not recorded, so a client already
    /// refused neither grows the table nor uses up the others' allowance.
    pub fn fail(&self, ip: IpAddr, presented: &[u8]) -> Option<Duration> {
        let mut guard = self.state.lock().ok()?;
        let state = &mut *guard;
        let now = Instant::now();
        // Stale buckets are swept at most once per window, not on every failure.
        if state.buckets.len() > MAX_BUCKETS
            && state
                .swept_at
                .is_none_or(|at| now.duration_since(at) >= self.window)
        {
            let window = self.window;
            state
                .buckets
                .retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) <= window));
            state.swept_at = Some(now);
        }
        let limits = self.limits(ip, presented);
        for (bucket, max) in &limits {
            if let Some(entry) = state.buckets.get_mut(bucket) {
                while entry
                    .front()
                    .is_some_and(|t| now.duration_since(*t) > self.window)
                {
                    entry.pop_front();
                }
                if entry.len() >= *max {
                    let oldest = entry.front().copied().unwrap_or(now);
                    return Some(self.window.saturating_sub(now.duration_since(oldest)));
                }
            }
        }
        for (bucket, _) in limits {
            state.buckets.entry(bucket).or_default().push_back(now);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn limiter_counts_per_key_and_per_client() {
        let limiter = AuthLimiter::new(3, 5, Duration::from_secs(60));
        let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let other = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
        for _ in 0..3 {
            assert!(limiter.fail(ip, b"pk_old_plugin").is_none());
        }
        assert!(
            limiter.fail(ip, b"pk_old_plugin").is_some(),
            "one stale key"
        );
        // Another client's bad key on the same address still gets its own answers...
        assert!(limiter.fail(ip, b"pk_typo").is_none());
        assert!(limiter.fail(ip, b"pk_typo2").is_none());
        // ...until the address as a whole is over its limit (a scanner trying keys).
        assert!(limiter.fail(ip, b"pk_scan").is_some());
        assert!(limiter.fail(other, b"pk_old_plugin").is_none());
    }
}
