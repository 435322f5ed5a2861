//! A provided buffer ring: buffers the kernel picks from when a receive
//! completes, instead of one buffer per waiting receive. An idle connection
//! then holds no buffer at all, and one multishot receive per connection
//! stays armed for as long as the connection lives.
//!
//! Each buffer is always in exactly one of two places: in the ring, where
//! the kernel may write it as it completes a receive, or in one [`RecvBuf`],
//! which the kernel does not touch until the buffer is given back (when the
//! `RecvBuf` is dropped).

use io_uring::IoUring;
use io_uring::types::BufRingEntry;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::io;
use std::ptr::NonNull;
use std::rc::Rc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::task::{Poll, Waker};

// ANCHOR: bufring
/// The buffer group id the runtime registers its ring under.
pub const GROUP: u16 = 0;

/// A ring of `count` buffers of `size` bytes each, registered with one
/// io_uring. Shared (`Rc`) by the reactor and every [`RecvBuf`] out of it.
pub struct BufRing {
    /// The ring of entries the kernel reads (page-aligned, from `mmap`).
    entries: NonNull<BufRingEntry>,
    /// `count` buffers of `size` bytes, one allocation.
    memory: NonNull<u8>,
    count: u16,
    size: u32,
    /// Our copy of the ring's tail: where the next given-back buffer goes.
    tail: Cell<u16>,
    /// Buffers out of the ring, in `RecvBuf`s.
    out: Cell<u16>,
    /// Receives that found the ring empty, waiting for a buffer to come back.
    waiters: RefCell<Vec<Waker>>,
}

impl fmt::Debug for BufRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BufRing")
            .field("count", &self.count)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

impl BufRing {
    /// Allocates `count` buffers (a power of two, at most 32,768) of `size`
    /// bytes, registers them with `ring` as group [`GROUP`], and puts every
    /// buffer in the ring.
    pub(crate) fn register(
        ring: &IoUring,
        count: u16,
        size: u32,
    ) -> io::Result<Rc<BufRing>> {
        if !count.is_power_of_two() || count > 32_768 || size == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "a buffer ring of {count} buffers of {size} bytes: the count \
                     must be a power of two up to 32,768, the size more than 0"
                ),
            ));
        }
        let ring_bytes = usize::from(count) * size_of::<BufRingEntry>();
        // SAFETY: an anonymous private mapping: no pointer goes in; the
        // result is checked below.
        let entries = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                ring_bytes,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if entries == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let layout = Self::layout(count, size)?;
        // SAFETY: the layout has a non-zero size (count and size are > 0).
        let memory = NonNull::new(unsafe { std::alloc::alloc(layout) });
        let (Some(entries), Some(memory)) =
            (NonNull::new(entries.cast::<BufRingEntry>()), memory)
        else {
            // SAFETY: the mapping was made above, of this length.
            unsafe { libc::munmap(entries, ring_bytes) };
            return Err(io::ErrorKind::OutOfMemory.into());
        };
        let bufs = BufRing {
            entries,
            memory,
            count,
            size,
            tail: Cell::new(0),
            out: Cell::new(0),
            waiters: RefCell::new(Vec::new()),
        };
        // SAFETY: the entries are a page-aligned mapping of `count` entries
        // that lives as long as `bufs`, and `bufs` outlives the registration:
        // the reactor keeps its `Rc` until the ring is closed (and leaks it
        // if an operation never completed).
        unsafe {
            ring.submitter().register_buf_ring_with_flags(
                entries.as_ptr() as u64,
                count,
                GROUP,
                0,
            )?;
        }
        (0..count).for_each(|bid| bufs.put(bid));
        Ok(Rc::new(bufs))
    }

    fn layout(count: u16, size: u32) -> io::Result<std::alloc::Layout> {
        let bytes = usize::from(count) * size as usize;
        std::alloc::Layout::from_size_align(bytes, 64)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))
    }

    /// How many buffers are out of the ring, in `RecvBuf`s.
    pub fn out(&self) -> u16 {
        self.out.get()
    }

    /// The size of each buffer.
    pub fn buffer_size(&self) -> u32 {
        self.size
    }

    /// Gives buffer `bid`, which a `RecvBuf` held, back to the ring.
    fn give_back(&self, bid: u16) {
        self.out.set(self.out.get().saturating_sub(1));
        self.reclaim(bid);
    }

    /// Puts buffer `bid` back in the ring (one a completion named that no
    /// `RecvBuf` was made for: a stale one) and wakes the receives waiting
    /// for a buffer.
    pub(crate) fn reclaim(&self, bid: u16) {
        self.put(bid);
        let waiters = std::mem::take(&mut *self.waiters.borrow_mut());
        waiters.into_iter().for_each(Waker::wake);
    }

    /// Waits until a buffer is in the ring (after a receive found none).
    pub(crate) async fn a_buffer_is_free(&self) {
        std::future::poll_fn(|cx| {
            if self.out.get() < self.count {
                return Poll::Ready(());
            }
            self.waiters.borrow_mut().push(cx.waker().clone());
            Poll::Pending
        })
        .await
    }

    /// Puts buffer `bid` in the ring, where the kernel may fill it.
    fn put(&self, bid: u16) {
        let tail = self.tail.get();
        let index = usize::from(tail & (self.count - 1));
        // SAFETY: `index` is below `count`, the number of entries mapped.
        // The kernel reads only entries between its head and the published
        // tail; this one is past the tail until the store below. Every
        // buffer id is in the ring at most once, so at most `count` entries
        // are ever unconsumed and the slot we write is free.
        unsafe {
            let entry = &mut *self.entries.as_ptr().add(index);
            entry.set_addr(self.buffer(bid) as u64);
            entry.set_len(self.size);
            entry.set_bid(bid);
        }
        let tail = tail.wrapping_add(1);
        self.tail.set(tail);
        // SAFETY: the tail is the `resv` field of the first entry, a u16 in
        // the mapping, which the kernel only reads; the release store makes
        // the entry written above visible to the kernel before the tail.
        unsafe {
            let at = BufRingEntry::tail(self.entries.as_ptr()).cast_mut();
            AtomicU16::from_ptr(at).store(tail, Ordering::Release);
        }
    }

    fn buffer(&self, bid: u16) -> *mut u8 {
        // SAFETY: the caller's `bid` is below `count` (checked by `take`,
        // or a loop over `0..count`), so the offset is inside `memory`.
        unsafe {
            self.memory
                .as_ptr()
                .add(usize::from(bid) * self.size as usize)
        }
    }

    /// The buffer a receive's completion names in its flags, if any, with
    /// the `result` bytes it got: out of the ring until the `RecvBuf` is
    /// dropped.
    ///
    /// # Safety
    /// `result` and `flags` must be a completion of a receive that picked
    /// from this ring, and each completion may be taken only once.
    pub(crate) unsafe fn take_from(
        self: &Rc<Self>,
        result: i32,
        flags: u32,
    ) -> Option<RecvBuf> {
        let bid = io_uring::cqueue::buffer_select(flags)?;
        // SAFETY: passed on from the caller.
        Some(unsafe { self.take(bid, usize::try_from(result).unwrap_or(0)) })
    }

    /// The buffer a completion named, with its first `len` bytes filled.
    ///
    /// # Safety
    /// As for `take_from`.
    unsafe fn take(self: &Rc<Self>, bid: u16, len: usize) -> RecvBuf {
        assert!(
            bid < self.count && len <= self.size as usize,
            "buffer {bid} of {len} bytes is not one of this ring's"
        );
        self.out.set(self.out.get() + 1);
        RecvBuf {
            ring: Rc::clone(self),
            bid,
            len,
        }
    }
}

impl Drop for BufRing {
    fn drop(&mut self) {
        let ring_bytes = usize::from(self.count) * size_of::<BufRingEntry>();
        // SAFETY: the last `Rc` is gone: the reactor dropped its one only
        // after the ring closed with no receive in flight, and no `RecvBuf`
        // exists. The mapping and the allocation were made in `register`
        // with these sizes.
        unsafe {
            libc::munmap(self.entries.as_ptr().cast(), ring_bytes);
            if let Ok(layout) = Self::layout(self.count, self.size) {
                std::alloc::dealloc(self.memory.as_ptr(), layout);
            }
        }
    }
}

/// Bytes a receive put in one of the ring's buffers. Derefs to them; dropped,
/// it gives the buffer back to the ring.
pub struct RecvBuf {
    ring: Rc<BufRing>,
    bid: u16,
    len: usize,
}

impl fmt::Debug for RecvBuf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecvBuf")
            .field("bid", &self.bid)
            .field("len", &self.len)
            .finish()
    }
}

impl std::ops::Deref for RecvBuf {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        // SAFETY: the kernel wrote `len` bytes at the start of this buffer
        // (the completion said so) and does not touch it while it is out of
        // the ring, which it is until `self` is dropped; the ring's `Rc`
        // keeps the memory alive.
        unsafe { std::slice::from_raw_parts(self.ring.buffer(self.bid), self.len) }
    }
}

impl Drop for RecvBuf {
    fn drop(&mut self) {
        self.ring.give_back(self.bid);
    }
}

// ANCHOR: stable-bytes
/// Bytes whose address does not change when the value that owns them moves,
/// so an operation may own the value and give the kernel the address.
///
/// # Safety
/// `as_bytes` must return the same address and length every time, from
/// when the value is made until it is dropped, however it is moved.
pub unsafe trait StableBytes: 'static {
    /// The bytes.
    fn as_bytes(&self) -> &[u8];
}

// SAFETY: a Vec's bytes are on the heap; moving the Vec moves its pointer,
// not them, and nothing reallocates it through a shared reference.
unsafe impl StableBytes for Vec<u8> {
    fn as_bytes(&self) -> &[u8] {
        self
    }
}

// SAFETY: the buffer is a fixed place in the ring's allocation, which the
// `Rc` keeps alive; its length never changes.
unsafe impl StableBytes for RecvBuf {
    fn as_bytes(&self) -> &[u8] {
        self
    }
}

/// What `Received::next` gives: bytes in a ring buffer, or bytes a dropped
/// receive left behind (see `salvage`), which come first.
#[derive(Debug)]
pub enum Chunk {
    /// A buffer of the ring.
    Ring(RecvBuf),
    /// Bytes salvaged from a dropped operation.
    Salvaged(Vec<u8>),
}

impl std::ops::Deref for Chunk {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Chunk::Ring(buf) => buf,
            Chunk::Salvaged(bytes) => bytes,
        }
    }
}

// SAFETY: both variants are `StableBytes`, and the variant never changes.
unsafe impl StableBytes for Chunk {
    fn as_bytes(&self) -> &[u8] {
        self
    }
}
// ANCHOR_END: stable-bytes
// ANCHOR_END: bufring
