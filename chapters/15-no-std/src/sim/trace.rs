//! A log of what the executor and the interrupts did, that an interrupt
//! handler can write to: a fixed array of atomics, no lock, no allocation.

use crate::executor::Event;
use std::string::{String, ToString};
use std::sync::atomic::{AtomicPtr, AtomicU8, AtomicUsize, Ordering};
use std::vec::Vec;

const CAPACITY: usize = 4096;

struct Entry {
    kind: AtomicU8,
    name: AtomicPtr<u8>,
    len: AtomicUsize,
}

static LOG: [Entry; CAPACITY] = [const {
    Entry {
        kind: AtomicU8::new(0),
        name: AtomicPtr::new(std::ptr::null_mut()),
        len: AtomicUsize::new(0),
    }
}; CAPACITY];
static NEXT: AtomicUsize = AtomicUsize::new(0);

const WORDS: [&str; 6] = ["spawn", "poll", "finish", "wake", "sleep", "irq"];

fn record(kind: u8, name: &'static str) {
    let at = NEXT.fetch_add(1, Ordering::SeqCst);
    if let Some(entry) = LOG.get(at) {
        entry.name.store(name.as_ptr().cast_mut(), Ordering::SeqCst);
        entry.len.store(name.len(), Ordering::SeqCst);
        entry.kind.store(kind, Ordering::SeqCst);
    }
}

pub(crate) fn event(event: Event) {
    match event {
        Event::Spawn(task) => record(0, task),
        Event::Poll(task) => record(1, task),
        Event::Finish(task) => record(2, task),
        Event::Wake(task) => record(3, task),
        Event::Sleep => record(4, ""),
    }
}

pub(crate) fn interrupt(name: &'static str) {
    record(5, name);
}

pub(crate) fn clear() {
    NEXT.store(0, Ordering::SeqCst);
}

/// The log so far, one line per entry: `poll blink`, `irq timer`, `sleep`.
pub(crate) fn lines() -> Vec<String> {
    let written = NEXT.load(Ordering::SeqCst);
    let mut lines: Vec<String> = LOG
        .iter()
        .take(written)
        .map(|entry| {
            let (ptr, len) = (
                entry.name.load(Ordering::SeqCst),
                entry.len.load(Ordering::SeqCst),
            );
            // SAFETY: `record` stored the pointer and length of a
            // `&'static str`, whose bytes are valid UTF-8 forever.
            let name = unsafe {
                std::str::from_utf8_unchecked(std::slice::from_raw_parts(ptr, len))
            };
            let word = WORDS[usize::from(entry.kind.load(Ordering::SeqCst))];
            if name.is_empty() {
                word.to_string()
            } else {
                std::format!("{word} {name}")
            }
        })
        .collect();
    if written > CAPACITY {
        lines.push(std::format!("... and {} more", written - CAPACITY));
    }
    lines
}
