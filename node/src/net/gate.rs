//! The production gate ("synced", PROTOCOL.md §12): a validator produces only while it is
//! not behind. Being behind must be shown, not claimed: a peer's claimed tip counts for at
//! most [`CLAIM_GRACE`] until the peer backs it with headers that pass the checks, and the
//! gate can never stay closed for more than [`MAX_CLOSED_WITHOUT_PROGRESS`] while the tip
//! does not move (a real sync connects blocks). When that bound trips, claims are ignored
//! for [`OVERRIDE`] and the node says so loudly: a peer (or many) cannot stop production.

use std::time::{Duration, Instant};
use tfchain_types::Height;
use tracing::warn;

/// How long a claimed tip closes the gate before its headers must have been shown.
pub const CLAIM_GRACE: Duration = Duration::from_secs(20);
/// How long a peer's claims are disregarded after it failed to back one.
pub const CLAIM_DISTRUST: Duration = Duration::from_secs(5 * 60);
/// The longest the gate stays closed while the tip does not advance.
pub const MAX_CLOSED_WITHOUT_PROGRESS: Duration = Duration::from_secs(60);
/// How long claims and sync sessions are disregarded once that bound tripped.
pub const OVERRIDE: Duration = Duration::from_secs(10 * 60);

#[derive(Debug, Default)]
pub(super) struct Gate {
    /// When the gate closed (or the tip last moved while closed), and the tip height then.
    closed_since: Option<(Instant, Height)>,
    override_until: Option<Instant>,
}

impl Gate {
    /// Whether the node may produce, given whether the evidence says it is `behind`.
    pub(super) fn synced(&mut self, now: Instant, tip: Height, behind: bool) -> bool {
        if self.override_until.is_some_and(|t| now < t) {
            return true;
        }
        self.override_until = None;
        if !behind {
            self.closed_since = None;
            return true;
        }
        match self.closed_since {
            Some((_, h)) if tip > h => self.closed_since = Some((now, tip)),
            Some((since, h)) if now.duration_since(since) >= MAX_CLOSED_WITHOUT_PROGRESS => {
                warn!(
                    height = h,
                    closed_for_s = now.duration_since(since).as_secs(),
                    ignore_for_s = OVERRIDE.as_secs(),
                    "peers say this node is behind but no block has arrived: producing anyway \
                     and ignoring peers' claims for a while (check the peers if this repeats)"
                );
                self.closed_since = None;
                self.override_until = Some(now + OVERRIDE);
                return true;
            }
            Some(_) => {}
            None => self.closed_since = Some((now, tip)),
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gate_cannot_be_held_closed_without_progress() {
        let mut g = Gate::default();
        let t0 = Instant::now();
        assert!(g.synced(t0, 5, false));
        assert!(!g.synced(t0, 5, true));
        assert!(!g.synced(t0 + Duration::from_secs(59), 5, true));
        // The tip moved: a real sync; the clock restarts.
        assert!(!g.synced(t0 + Duration::from_secs(59), 6, true));
        assert!(!g.synced(t0 + Duration::from_secs(100), 6, true));
        // No block for a minute: open, and stay open for the override.
        assert!(g.synced(t0 + Duration::from_secs(120), 6, true));
        assert!(g.synced(t0 + Duration::from_secs(120) + OVERRIDE / 2, 6, true));
        // After the override the evidence counts again.
        let later = t0 + Duration::from_secs(121) + OVERRIDE;
        assert!(!g.synced(later, 6, true));
        assert!(g.synced(later, 6, false));
    }
}
