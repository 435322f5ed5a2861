//! The slot table: one slot per operation the kernel may still be working on,
//! named in each submission's `user_data` so that its completion finds it.

use std::collections::VecDeque;
use std::task::Waker;

// ANCHOR: key
/// Names one operation: a slot in the table and that slot's generation when
/// the operation started. A slot is reused after its operation is over, with
/// the next generation, so a completion that arrives late (or twice) carries a
/// key that no longer matches and can never wake the slot's next owner, and a
/// late cancel can never cancel it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    index: u32,
    /// Kept to 30 bits, so that a key never has [`UserData`]'s two top bits set.
    generation: u32,
}

/// What a completion's 64-bit `user_data` says it is for. Encoded and decoded
/// here only: the top bit marks the first entry of a linked pair, the next
/// one a cancel (of the operation the rest names), and the two largest
/// values, which have both bits set, are the reactor's own entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UserData {
    /// An operation's (last) entry.
    Op(Key),
    /// The first entry of an operation made of two linked entries.
    LinkHead(Key),
    /// An `AsyncCancel` of the operation `Key` names (of either entry).
    Cancel(Key),
    /// The eventfd read that lets other threads wake the reactor.
    WakeRead,
    /// The `AsyncCancel` of the wake read, when the reactor goes away.
    WakeReadCancel,
}

const LINK_HEAD: u64 = 1 << 63;
const CANCEL: u64 = 1 << 62;
const WAKE_READ: u64 = u64::MAX;
const WAKE_READ_CANCEL: u64 = u64::MAX - 1;
const GENERATION_MASK: u32 = u32::MAX >> 2;

impl UserData {
    pub fn encode(self) -> u64 {
        let key = |k: Key| (u64::from(k.generation) << 32) | u64::from(k.index);
        match self {
            UserData::Op(k) => key(k),
            UserData::LinkHead(k) => key(k) | LINK_HEAD,
            UserData::Cancel(k) => key(k) | CANCEL,
            UserData::WakeRead => WAKE_READ,
            UserData::WakeReadCancel => WAKE_READ_CANCEL,
        }
    }

    pub fn decode(data: u64) -> UserData {
        let key = |d: u64| Key {
            index: d as u32,
            generation: (d >> 32) as u32 & GENERATION_MASK,
        };
        match data {
            WAKE_READ => UserData::WakeRead,
            WAKE_READ_CANCEL => UserData::WakeReadCancel,
            d if d & LINK_HEAD != 0 => UserData::LinkHead(key(d)),
            d if d & CANCEL != 0 => UserData::Cancel(key(d)),
            d => UserData::Op(key(d)),
        }
    }
}
// ANCHOR_END: key

/// How an operation ended: its entry's result, and, for a linked pair, the
/// first entry's result if the kernel posted one (it does only on failure).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Completion {
    /// The first entry's result, for a linked pair whose first entry failed.
    pub first: Option<i32>,
    /// The operation's result: a count or a negated `errno`.
    pub result: i32,
    /// The completion's flags (the buffer a receive took from the ring).
    pub flags: u32,
}

/// What is left of an operation whose future was dropped while the kernel
/// still owned its resources: they stay here until its completion comes.
pub trait Parked {
    /// The completion came: the resources may go now, and the result may
    /// hold something to keep for the next caller or to clean up (read
    /// bytes, an accepted socket). Wakers to call go to `woken`.
    fn abandoned(self: Box<Self>, result: i32, woken: &mut Vec<Waker>);

    /// A multishot operation's result that is not its last: the resources
    /// stay, and the result is the operation's to keep or clean up.
    fn abandoned_more(&mut self, result: i32, flags: u32, woken: &mut Vec<Waker>);
}

impl std::fmt::Debug for dyn Parked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<parked operation>")
    }
}

#[derive(Debug)]
pub(super) enum SlotState {
    Free,
    /// Submitted (or queued); the waker to wake on completion.
    InFlight(Option<Waker>),
    /// Completed; the result waits for its future's next poll.
    Done(Completion),
    /// Its future was dropped while the kernel still owned its resources.
    Parked(Box<dyn Parked>),
    /// A multishot operation: the results not yet taken, the waker, and
    /// whether the kernel has ended it (its last completion had no `MORE`).
    Many {
        /// Each completion's result and flags (a buffer id, say).
        results: VecDeque<(i32, u32)>,
        waker: Option<Waker>,
        ended: bool,
    },
}

#[derive(Debug)]
struct Slot {
    generation: u32,
    state: SlotState,
    /// Whether the operation is a linked pair: a cancel must name both entries.
    linked: bool,
    /// Whether a cancel that found nothing may be sent once more.
    cancel_retry: bool,
    /// Whether the operation is multishot: completions until one without
    /// `MORE`.
    many: bool,
}

/// The table. Slots are reused (through `free`) so it stays as large as the
/// most operations ever in flight at once; `in_flight` counts the slots
/// whose operation the kernel has not completed, parked ones included.
#[derive(Debug, Default)]
pub(super) struct Slots {
    slots: Vec<Slot>,
    free: Vec<u32>,
    in_flight: usize,
}

impl Slots {
    /// A slot for a new operation, in flight, with the waker to wake.
    pub fn allocate(&mut self, waker: Waker, linked: bool) -> Key {
        let index = self.free.pop().unwrap_or_else(|| {
            self.slots.push(Slot {
                generation: 0,
                state: SlotState::Free,
                linked: false,
                cancel_retry: false,
                many: false,
            });
            (self.slots.len() - 1) as u32
        });
        let slot = &mut self.slots[index as usize];
        slot.state = SlotState::InFlight(Some(waker));
        slot.linked = linked;
        slot.cancel_retry = true;
        slot.many = false;
        self.in_flight += 1;
        Key {
            index,
            generation: slot.generation,
        }
    }

    /// A slot for a new multishot operation.
    pub fn allocate_many(&mut self) -> Key {
        let key = self.allocate(Waker::noop().clone(), false);
        let slot = &mut self.slots[key.index as usize];
        slot.many = true;
        slot.state = SlotState::Many {
            results: VecDeque::new(),
            waker: None,
            ended: false,
        };
        key
    }

    /// Whether `key` names a multishot operation.
    pub fn is_many(&self, key: Key) -> bool {
        self.slots
            .get(key.index as usize)
            .is_some_and(|s| s.generation == key.generation && s.many)
    }

    /// A multishot operation's last completion came: it is in flight no more.
    pub fn many_ended(&mut self) {
        self.in_flight -= 1;
    }

    /// Hands back the slot of an operation that never reached the kernel.
    pub fn release_unsubmitted(&mut self, key: Key) {
        self.in_flight -= 1;
        self.release(key);
    }

    /// Hands back a completed operation's slot, with the next generation.
    pub fn release(&mut self, key: Key) {
        let slot = &mut self.slots[key.index as usize];
        slot.state = SlotState::Free;
        slot.generation = slot.generation.wrapping_add(1) & GENERATION_MASK;
        self.free.push(key.index);
    }

    /// The state of the operation `key` names, if it is still that slot's.
    pub fn state(&mut self, key: Key) -> Option<&mut SlotState> {
        let slot = self.slots.get_mut(key.index as usize)?;
        (slot.generation == key.generation).then_some(&mut slot.state)
    }

    /// Whether `key` names a parked operation (dropped, still in the kernel).
    pub fn is_parked(&self, key: Key) -> bool {
        self.slots.get(key.index as usize).is_some_and(|s| {
            s.generation == key.generation
                && matches!(s.state, SlotState::Parked(_))
        })
    }

    /// Whether a missed cancel of `key` may be retried; only once.
    pub fn take_cancel_retry(&mut self, key: Key) -> bool {
        match self.slots.get_mut(key.index as usize) {
            Some(s) if s.generation == key.generation => {
                std::mem::replace(&mut s.cancel_retry, false)
            }
            _ => false,
        }
    }

    /// The entries a cancel of `key` must name: the link head too, if any.
    pub fn cancel_targets(&self, key: Key) -> Vec<UserData> {
        let linked = self.slots.get(key.index as usize).is_some_and(|s| s.linked);
        if linked {
            vec![UserData::LinkHead(key), UserData::Op(key)]
        } else {
            vec![UserData::Op(key)]
        }
    }

    /// Records an operation's last completion; returns what was there.
    pub fn complete(
        &mut self,
        key: Key,
        completion: Completion,
    ) -> Option<SlotState> {
        let slot = self.slots.get_mut(key.index as usize)?;
        if slot.generation != key.generation {
            return None;
        }
        let previous =
            std::mem::replace(&mut slot.state, SlotState::Done(completion));
        match previous {
            SlotState::InFlight(_) | SlotState::Parked(_) => self.in_flight -= 1,
            // Not ours to finish: put it back.
            SlotState::Free | SlotState::Done(_) | SlotState::Many { .. } => {
                slot.state = previous;
                return None;
            }
        }
        Some(previous)
    }

    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    pub fn parked(&self) -> usize {
        self.slots
            .iter()
            .filter(|s| matches!(s.state, SlotState::Parked(_)))
            .count()
    }

    /// The keys of the operations the kernel still has, for cancelling them.
    pub fn in_flight_keys(&self) -> Vec<Key> {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, s)| {
                matches!(
                    s.state,
                    SlotState::InFlight(_)
                        | SlotState::Parked(_)
                        | SlotState::Many { ended: false, .. }
                )
            })
            .map(|(i, s)| Key {
                index: i as u32,
                generation: s.generation,
            })
            .collect()
    }

    /// Takes every parked operation's resources out of the table.
    pub fn take_parked(&mut self) -> Vec<Box<dyn Parked>> {
        self.slots
            .iter_mut()
            .filter_map(|s| {
                match std::mem::replace(&mut s.state, SlotState::Free) {
                    SlotState::Parked(p) => Some(p),
                    other => {
                        s.state = other;
                        None
                    }
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_data_round_trips() {
        for (index, generation) in [(0, 0), (7, 3), (u32::MAX, GENERATION_MASK)] {
            let key = Key { index, generation };
            let all = [
                UserData::Op(key),
                UserData::LinkHead(key),
                UserData::Cancel(key),
            ];
            for data in all {
                assert_eq!(UserData::decode(data.encode()), data);
            }
        }
        for data in [UserData::WakeRead, UserData::WakeReadCancel] {
            assert_eq!(UserData::decode(data.encode()), data);
        }
    }

    #[test]
    fn a_released_slot_comes_back_with_a_new_generation() {
        let mut slots = Slots::default();
        let old = slots.allocate(Waker::noop().clone(), false);
        slots.release_unsubmitted(old);
        let new = slots.allocate(Waker::noop().clone(), false);
        assert_eq!(new.index, old.index);
        assert_ne!(new.generation, old.generation);
        assert!(slots.state(old).is_none(), "the old key names nothing now");
        assert_eq!(slots.in_flight(), 1);
    }
}
