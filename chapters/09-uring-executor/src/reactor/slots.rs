//! The slot table: one slot per operation the kernel may still be working on,
//! named in each submission's `user_data` so that its completion finds it.

use std::any::Any;
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
    /// Kept to 30 bits: a key never has [`UserData`]'s top bit set, and a
    /// cancel's (the key with that bit) never reaches the reactor's values.
    generation: u32,
}

/// What a completion's 64-bit `user_data` says it is for. Encoded and decoded
/// here only: the top bit marks a cancel (of the operation the rest names),
/// and the two largest values, which have it set, are the reactor's own
/// entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UserData {
    /// An operation's entry.
    Op(Key),
    /// An `AsyncCancel` of the operation `Key` names.
    Cancel(Key),
    /// The eventfd read that lets other threads wake the reactor.
    WakeRead,
    /// The `AsyncCancel` of the wake read, when the reactor goes away.
    WakeReadCancel,
}

const CANCEL: u64 = 1 << 63;
const WAKE_READ: u64 = u64::MAX;
const WAKE_READ_CANCEL: u64 = u64::MAX - 1;
const GENERATION_MASK: u32 = u32::MAX >> 2;

impl UserData {
    pub fn encode(self) -> u64 {
        let key = |k: Key| (u64::from(k.generation) << 32) | u64::from(k.index);
        match self {
            UserData::Op(k) => key(k),
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
            d if d & CANCEL != 0 => UserData::Cancel(key(d)),
            d => UserData::Op(key(d)),
        }
    }
}
// ANCHOR_END: key

/// What is left of an operation whose future was dropped while the kernel
/// still owned its resources (its buffer, its fd): they stay in its slot until
/// its completion comes, whatever their types.
pub type Parked = Box<dyn Any>;

#[derive(Debug)]
pub(super) enum SlotState {
    Free,
    /// Submitted (or queued); the waker to wake on completion.
    InFlight(Option<Waker>),
    /// Completed; the result waits for its future's next poll.
    Done(i32),
    /// Its future was dropped while the kernel still owned its resources.
    Parked(Parked),
}

#[derive(Debug)]
struct Slot {
    generation: u32,
    state: SlotState,
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
    pub fn allocate(&mut self, waker: Waker) -> Key {
        let index = self.free.pop().unwrap_or_else(|| {
            self.slots.push(Slot {
                generation: 0,
                state: SlotState::Free,
            });
            (self.slots.len() - 1) as u32
        });
        let slot = &mut self.slots[index as usize];
        slot.state = SlotState::InFlight(Some(waker));
        self.in_flight += 1;
        Key {
            index,
            generation: slot.generation,
        }
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

    /// Records an operation's last completion; returns what was there.
    pub fn complete(&mut self, key: Key, result: i32) -> Option<SlotState> {
        let slot = self.slots.get_mut(key.index as usize)?;
        if slot.generation != key.generation {
            return None;
        }
        let previous = std::mem::replace(&mut slot.state, SlotState::Done(result));
        match previous {
            SlotState::InFlight(_) | SlotState::Parked(_) => self.in_flight -= 1,
            // Not ours to finish: put it back.
            SlotState::Free | SlotState::Done(_) => {
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
                matches!(s.state, SlotState::InFlight(_) | SlotState::Parked(_))
            })
            .map(|(i, s)| Key {
                index: i as u32,
                generation: s.generation,
            })
            .collect()
    }

    /// Takes every parked operation's resources out of the table.
    pub fn take_parked(&mut self) -> Vec<Parked> {
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
            for data in [UserData::Op(key), UserData::Cancel(key)] {
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
        let old = slots.allocate(Waker::noop().clone());
        slots.release_unsubmitted(old);
        let new = slots.allocate(Waker::noop().clone());
        assert_eq!(new.index, old.index);
        assert_ne!(new.generation, old.generation);
        assert!(slots.state(old).is_none(), "the old key names nothing now");
        assert_eq!(slots.in_flight(), 1);
    }
}
