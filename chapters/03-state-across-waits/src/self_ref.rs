//! What a self-referencing state does when it moves, shown without ever
//! reading through a stale pointer: only addresses are compared.

// ANCHOR: self-pointing
/// A state that keeps a position inside its own buffer as a raw pointer.
/// Safe Rust lets us build it (a raw pointer has no lifetime to check); it is
/// correct only as long as the value stays where it was when `aim` ran.
#[derive(Debug)]
pub struct SelfPointing {
    buffer: [u8; 16],
    /// Meant to point into `buffer`, in this same value.
    cursor: *const u8,
}

impl SelfPointing {
    pub fn new(text: &[u8]) -> Self {
        let mut buffer = [0u8; 16];
        let n = text.len().min(buffer.len());
        buffer[..n].copy_from_slice(&text[..n]);
        SelfPointing {
            buffer,
            cursor: std::ptr::null(),
        }
    }

    /// Points `cursor` at `buffer[at]`, wherever this value is right now.
    pub fn aim(&mut self, at: usize) {
        self.cursor = self.buffer[at..].as_ptr();
    }

    /// Where the buffer is now.
    pub fn buffer_address(&self) -> usize {
        self.buffer.as_ptr() as usize
    }

    /// Where `cursor` points.
    pub fn cursor_address(&self) -> usize {
        self.cursor as usize
    }

    /// Whether `cursor` points into this value's own buffer. Compares
    /// addresses; never reads through the pointer.
    pub fn cursor_is_inside(&self) -> bool {
        let start = self.buffer_address();
        (start..start + self.buffer.len()).contains(&self.cursor_address())
    }
}
// ANCHOR_END: self-pointing

// ANCHOR: offset-cursor
/// Exercise 2: the same state with an offset instead of a pointer. An offset
/// means the same thing wherever the value is, so moving it is harmless.
#[derive(Debug, Clone)]
pub struct OffsetCursor {
    buffer: [u8; 16],
    at: usize,
}

impl OffsetCursor {
    pub fn new(text: &[u8], at: usize) -> Self {
        let mut buffer = [0u8; 16];
        let n = text.len().min(buffer.len());
        buffer[..n].copy_from_slice(&text[..n]);
        OffsetCursor { buffer, at }
    }

    /// The byte the cursor is on.
    pub fn current(&self) -> u8 {
        self.buffer[self.at]
    }
}
// ANCHOR_END: offset-cursor
