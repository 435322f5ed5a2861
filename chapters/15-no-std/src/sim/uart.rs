//! The UART receiver's driver: the interrupt handler moves each byte from
//! the one-byte data register into a small buffer and wakes the readers.

use super::hardware;
use crate::irq::Interrupt;
use core::cell::RefCell;
use critical_section::{CriticalSection, Mutex};

const FIFO: usize = 16;

/// Received bytes not read yet; a ring of `FIFO` bytes.
struct Fifo {
    bytes: [u8; FIFO],
    start: usize,
    len: usize,
    /// Bytes dropped because the buffer was full.
    dropped: usize,
}

impl Fifo {
    const fn new() -> Self {
        Fifo {
            bytes: [0; FIFO],
            start: 0,
            len: 0,
            dropped: 0,
        }
    }

    fn push(&mut self, byte: u8) {
        if self.len == FIFO {
            self.dropped += 1;
            return;
        }
        self.bytes[(self.start + self.len) % FIFO] = byte;
        self.len += 1;
    }

    fn pop(&mut self) -> Option<u8> {
        if self.len == 0 {
            return None;
        }
        let byte = self.bytes[self.start];
        self.start = (self.start + 1) % FIFO;
        self.len -= 1;
        Some(byte)
    }
}

// ANCHOR: uart
pub static UART: Interrupt = Interrupt::new();
static RECEIVED: Mutex<RefCell<Fifo>> = Mutex::new(RefCell::new(Fifo::new()));

/// The next received byte, waiting for one if none is buffered.
pub async fn read_byte() -> u8 {
    UART.wait_until(0, pop).await
}

/// A received byte, if one is buffered.
pub fn pop(cs: CriticalSection<'_>) -> Option<u8> {
    RECEIVED.borrow_ref_mut(cs).pop()
}

/// Reads into `line` up to a newline (not stored); returns the length.
/// Bytes beyond `line`'s length are read and dropped.
pub async fn read_line(line: &mut [u8]) -> usize {
    let mut len = 0;
    loop {
        match read_byte().await {
            b'\n' => return len.min(line.len()),
            byte => {
                if let Some(slot) = line.get_mut(len) {
                    *slot = byte;
                }
                len += 1;
            }
        }
    }
}

/// The UART's interrupt handler.
pub(crate) fn on_interrupt() {
    critical_section::with(|cs| {
        let mut received = RECEIVED.borrow_ref_mut(cs);
        while let Some(byte) = hardware::uart_take() {
            received.push(byte);
        }
        drop(received);
        UART.wake_all(cs);
    });
}
// ANCHOR_END: uart

/// Bytes dropped because nobody read them in time (buffer full).
pub fn dropped(cs: CriticalSection<'_>) -> usize {
    RECEIVED.borrow_ref(cs).dropped
}

pub(crate) fn reset() {
    critical_section::with(|cs| *RECEIVED.borrow_ref_mut(cs) = Fifo::new());
}
