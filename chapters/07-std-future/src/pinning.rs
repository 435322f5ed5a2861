//! What `Pin` guarantees, on chapter 3's self-pointing state.

use std::marker::PhantomPinned;
use std::pin::Pin;

// ANCHOR: pinned-cursor
/// Chapter 3's `SelfPointing`, made sound with `Pin`. `PhantomPinned` makes it
/// `!Unpin`, so safe code cannot move it out of a `Pin` any more. `aim` takes
/// `Pin<&mut Self>`, so the cursor is only ever set on a value that will stay
/// where it is; reading through the cursor later is therefore sound.
#[derive(Debug)]
pub struct PinnedCursor {
    buffer: [u8; 16],
    cursor: *const u8,
    _pinned: PhantomPinned,
}

impl PinnedCursor {
    pub fn new(text: &[u8]) -> Self {
        let mut buffer = [0u8; 16];
        let n = text.len().min(buffer.len());
        buffer[..n].copy_from_slice(&text[..n]);
        PinnedCursor {
            buffer,
            cursor: std::ptr::null(),
            _pinned: PhantomPinned,
        }
    }

    /// Points the cursor at `buffer[at]`; false if `at` is out of range.
    pub fn aim(self: Pin<&mut Self>, at: usize) -> bool {
        // SAFETY: we only assign a field through the reference; nothing is
        // moved out of the pinned value, so the pinning promise still holds.
        let this = unsafe { self.get_unchecked_mut() };
        match this.buffer.get(at) {
            Some(byte) => {
                this.cursor = byte;
                true
            }
            None => false,
        }
    }

    /// The byte under the cursor, if it has been aimed.
    pub fn current(self: Pin<&Self>) -> Option<u8> {
        if self.cursor.is_null() {
            return None;
        }
        // SAFETY: `cursor` was set by `aim`, through a `Pin`, to an element of
        // this value's own `buffer`. A pinned `!Unpin` value is never moved
        // again until it is dropped, so the buffer is still at that address,
        // and it lives as long as `self`, which we borrow.
        Some(unsafe { *self.cursor })
    }

    /// Whether the cursor points into this value's buffer (addresses only).
    pub fn cursor_is_inside(&self) -> bool {
        let start = self.buffer.as_ptr() as usize;
        (start..start + self.buffer.len()).contains(&(self.cursor as usize))
    }
}
// ANCHOR_END: pinned-cursor
