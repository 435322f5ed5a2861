//! Timers: no file descriptor and no kernel operation per timer, but one
//! ordered map in the reactor, whose earliest deadline is the timeout of the
//! turn's one wait in `io_uring_enter`.

use std::collections::BTreeMap;
use std::task::Waker;
use std::time::Instant;

// ANCHOR: timers
/// Names a timer: its deadline first, so that the map is ordered by it, and
/// a number that tells apart timers due at the same instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct TimerKey {
    deadline: Instant,
    id: u64,
}

/// Every pending timer and the waker to wake when it is due. A `BTreeMap`
/// gives the earliest in O(log n), and removes a cancelled timer at once, so
/// its memory goes with it.
#[derive(Debug, Default)]
pub(super) struct Timers {
    pending: BTreeMap<TimerKey, Waker>,
    next_id: u64,
}

impl Timers {
    /// Registers a timer, or, if `key` already names one, updates its waker.
    pub fn set(
        &mut self,
        key: &mut Option<TimerKey>,
        deadline: Instant,
        waker: &Waker,
    ) {
        if let Some(stored) = key.and_then(|k| self.pending.get_mut(&k)) {
            stored.clone_from(waker);
            return;
        }
        let new = TimerKey {
            deadline,
            id: self.next_id,
        };
        self.next_id += 1;
        self.pending.insert(new, waker.clone());
        *key = Some(new);
    }

    /// Forgets a timer (fired or not).
    pub fn cancel(&mut self, key: TimerKey) {
        self.pending.remove(&key);
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        self.pending.first_key_value().map(|(k, _)| k.deadline)
    }

    /// Forgets every timer due by `now`, and adds its waker to `woken`.
    pub fn fire_due(&mut self, now: Instant, woken: &mut Vec<Waker>) {
        while let Some(entry) = self.pending.first_entry() {
            if entry.key().deadline > now {
                break;
            }
            woken.push(entry.remove());
        }
    }

    pub fn len(&self) -> usize {
        self.pending.len()
    }
}
// ANCHOR_END: timers

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::task::Wake;
    use std::time::Duration;

    struct Count(AtomicU32);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_cancelled_timer_is_gone_at_once_and_due_timers_fire_once() {
        let count = Arc::new(Count(AtomicU32::new(0)));
        let waker = Waker::from(Arc::clone(&count));
        let now = Instant::now();
        let mut timers = Timers::default();
        let (mut late, mut soon) = (None, None);
        timers.set(&mut late, now + Duration::from_secs(3600), &waker);
        timers.set(&mut soon, now + Duration::from_millis(1), &waker);
        // Setting again with a key only updates the waker.
        timers.set(&mut soon, now + Duration::from_secs(7200), &waker);
        assert_eq!(timers.len(), 2);
        assert_eq!(timers.next_deadline(), Some(now + Duration::from_millis(1)));
        timers.cancel(late.expect("set"));
        assert_eq!(
            timers.len(),
            1,
            "a cancelled timer does not wait for its deadline"
        );
        let mut woken = Vec::new();
        timers.fire_due(now, &mut woken);
        assert!(woken.is_empty(), "not due yet");
        timers.fire_due(now + Duration::from_millis(1), &mut woken);
        timers.fire_due(now + Duration::from_millis(2), &mut woken);
        woken.drain(..).for_each(Waker::wake);
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        assert_eq!((timers.len(), timers.next_deadline()), (0, None));
    }
}
