//! I/O operations as futures that own their buffers.

use crate::reactor::{Completion, Handle, Key, Parked};
use io_uring::{opcode, squeue, types};
use std::future::Future;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

// ANCHOR: operation
/// What an io_uring operation needs to say. Everything its entry points to
/// must live inside the operation value, on the heap (a `Vec`, a `Box`), so
/// that it stays put when the value moves.
pub trait Operation: 'static {
    /// What the operation's future gives.
    type Output;
    /// Builds the submission entry; called once, on the first poll.
    fn entry(&mut self) -> squeue::Entry;

    /// For an operation made of two linked entries: the first one, submitted
    /// right before `entry` with `IO_LINK`. Called once, with `entry`.
    fn linked_first(&mut self) -> Option<squeue::Entry> {
        None
    }

    /// Like `complete`, for an operation with a linked first entry: `first` is
    /// that entry's result if the kernel posted one.
    fn complete_linked(self, first: Option<i32>, result: i32) -> Self::Output
    where
        Self: Sized,
    {
        let _ = first;
        self.complete(result)
    }
    /// Turns the completion's result into the output, handing back what the
    /// operation owned (its buffer, say).
    fn complete(self, result: i32) -> Self::Output;

    /// Like `complete_linked`, with the completion's flags, for an operation
    /// that needs them (a receive that took a ring buffer says which).
    fn complete_with_flags(
        self,
        first: Option<i32>,
        result: i32,
        flags: u32,
    ) -> Self::Output
    where
        Self: Sized,
    {
        let _ = flags;
        self.complete_linked(first, result)
    }

    /// The last completion of an operation whose future was dropped. The
    /// default just drops the resources. An operation whose result is worth
    /// keeping (bytes read, an accepted socket) salvages it here for the next
    /// caller of its resource (see `salvage`); wakers it wants called go to
    /// `woken`, which the executor calls once the reactor is let go.
    fn abandoned(self, result: i32, woken: &mut Vec<Waker>)
    where
        Self: Sized,
    {
        let _ = (result, woken);
    }

    /// Called when the operation's future is dropped with the operation in
    /// flight, just before it is parked. The default does nothing.
    fn on_park(&mut self) {}

    /// For a multishot operation whose future was dropped: a result that is
    /// not its last (`abandoned` gets the last), with the completion's flags
    /// (which name the buffer a receive filled). The last one, if it carries
    /// a buffer, comes here too, before `abandoned`, and so does the one
    /// completion of a single-shot receive that took a ring buffer. The
    /// default drops it.
    fn abandoned_more(&mut self, result: i32, flags: u32, woken: &mut Vec<Waker>) {
        let _ = (result, flags, woken);
    }
}

impl<T: Operation> Parked for T {
    fn abandoned(self: Box<Self>, result: i32, woken: &mut Vec<Waker>) {
        Operation::abandoned(*self, result, woken);
    }
    fn abandoned_more(&mut self, result: i32, flags: u32, woken: &mut Vec<Waker>) {
        Operation::abandoned_more(self, result, flags, woken);
    }
}

/// A future for one operation. It owns the operation (and so its buffer) until
/// the completion arrives; if it is dropped first, the operation is parked in
/// the reactor that started it, and cancelled, until then.
#[must_use = "an operation does nothing unless it is polled"]
#[derive(Debug)]
pub struct Op<T: Operation> {
    operation: Option<T>,
    /// From the first poll on: the reactor it went to, and its slot there.
    submitted: Option<(Handle, Key)>,
}

impl<T: Operation> Op<T> {
    /// A future for `operation`; nothing is submitted until it is polled.
    pub fn new(operation: T) -> Self {
        Op {
            operation: Some(operation),
            submitted: None,
        }
    }

    /// Hands an operation in flight to the reactor that started it.
    fn park(&mut self) {
        if let (Some((reactor, key)), Some(operation)) =
            (self.submitted.take(), self.operation.take())
        {
            reactor.park(key, Box::new(operation));
        }
    }
}

// Nothing in an Op is pinned: what the kernel uses lives on the heap.
impl<T: Operation> Unpin for Op<T> {}

impl<T: Operation> Future for Op<T> {
    type Output = io::Result<T::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let reactor = match reactor_to_use(&this.submitted) {
            Ok(reactor) => reactor,
            Err(e) => {
                // Polled where its completion cannot come: give it back to
                // its own reactor (which cancels it), and say what went wrong.
                this.park();
                return Poll::Ready(Err(e));
            }
        };
        let Some(operation) = this.operation.as_mut() else {
            panic!("an Op was polled after it completed");
        };
        let mut key = this.submitted.as_ref().map(|(_, key)| *key);
        let polled = reactor.with(|r| {
            // SAFETY: the entry points into `operation`'s heap data, which
            // stays where it is until the result is taken below (the Op keeps
            // the operation) or, if the Op is dropped first, until this same
            // reactor has reaped the completion (Drop parks it there, and the
            // Op's handle keeps the reactor alive until then).
            unsafe {
                r.submit_or_result(&mut key, cx.waker(), || {
                    (operation.linked_first(), operation.entry())
                })
            }
        });
        this.submitted = key.map(|key| (reactor, key));
        match polled {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(Completion {
                first,
                result,
                flags,
            })) => {
                let operation = this.operation.take().expect("checked above");
                Poll::Ready(Ok(operation.complete_with_flags(first, result, flags)))
            }
            Err(e) => Poll::Ready(Err(e)),
        }
    }
}

impl<T: Operation> Drop for Op<T> {
    fn drop(&mut self) {
        self.park();
    }
}
// ANCHOR_END: operation

// ANCHOR: multishot
/// A multishot operation: submitted once, it completes again and again (a
/// multishot accept, one connection each time) until the kernel ends it with
/// a completion without `MORE`; the next call to `next` then submits it
/// again. Dropped, it is parked and cancelled like an `Op`, and every result
/// it had queued or still gets goes to its `abandoned_more` (the last one to
/// `abandoned`).
#[must_use = "a multishot operation does nothing unless it is polled"]
#[derive(Debug)]
pub struct Multishot<T: Operation> {
    operation: Option<T>,
    submitted: Option<(Handle, Key)>,
    /// How many times it was submitted.
    arms: u64,
}

impl<T: Operation> Multishot<T> {
    /// A multishot operation; nothing is submitted until it is polled.
    pub fn new(operation: T) -> Self {
        Multishot {
            operation: Some(operation),
            submitted: None,
            arms: 0,
        }
    }

    /// How many times it was submitted (once, unless the kernel ended it).
    pub fn arms(&self) -> u64 {
        self.arms
    }

    /// How many results have come and wait to be taken.
    pub fn queued(&self) -> usize {
        match &self.submitted {
            Some((reactor, key)) => reactor.with(|r| r.queued_of_many(*key)),
            None => 0,
        }
    }

    /// The next result (a count, a descriptor, or a negated `errno`).
    pub async fn next(&mut self) -> io::Result<i32> {
        Ok(self.next_with_flags().await?.0)
    }

    /// The next result, with its completion's flags.
    pub async fn next_with_flags(&mut self) -> io::Result<(i32, u32)> {
        std::future::poll_fn(|cx| self.poll_next(cx)).await
    }

    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<(i32, u32)>> {
        loop {
            let reactor = match reactor_to_use(&self.submitted) {
                Ok(reactor) => reactor,
                Err(e) => {
                    self.park();
                    return Poll::Ready(Err(e));
                }
            };
            let Some(operation) = self.operation.as_mut() else {
                return Poll::Ready(Err(io::Error::other(
                    "a multishot operation was polled after it failed",
                )));
            };
            let Some((_, key)) = self.submitted else {
                // SAFETY: the entry points into `operation`'s heap data, which
                // stays where it is while the Multishot holds it, and, once it
                // is dropped, in the reactor until the last completion.
                let key = reactor
                    .with(|r| unsafe { r.submit_many(operation.entry()) })?;
                self.submitted = Some((reactor, key));
                self.arms += 1;
                continue;
            };
            match reactor.with(|r| r.next_of_many(key, cx.waker())) {
                Poll::Ready(Some(result)) => return Poll::Ready(Ok(result)),
                // The kernel ended it: submit it again.
                Poll::Ready(None) => self.submitted = None,
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    fn park(&mut self) {
        if let (Some((reactor, key)), Some(mut operation)) =
            (self.submitted.take(), self.operation.take())
        {
            operation.on_park();
            reactor.park(key, Box::new(operation));
        }
    }
}

impl<T: Operation> Drop for Multishot<T> {
    fn drop(&mut self) {
        self.park();
    }
}
// ANCHOR_END: multishot

/// The reactor a poll must talk to: the one that started the operation, if
/// its runtime is the one running; before the first submission, the running
/// one. An error, saying which, when the operation was started elsewhere (its
/// completion will come to a ring this runtime does not reap) or when no
/// runtime runs.
fn reactor_to_use(submitted: &Option<(Handle, Key)>) -> io::Result<Handle> {
    match submitted {
        Some((reactor, _)) if reactor.is_current() => Ok(reactor.clone()),
        Some(_) => Err(io::Error::other(
            "an io_uring operation was polled outside the runtime that started \
             it; it has been cancelled. Await an operation to the end inside \
             the block_on that first polled it.",
        )),
        None => Handle::current().ok_or_else(|| {
            io::Error::other(
                "an io_uring operation was polled outside Runtime::block_on: \
                 there is no ring to submit it to",
            )
        }),
    }
}

/// A file descriptor shared by the operations that use it: it stays open until
/// the last of them is finished (parked ones included).
pub type SharedFd = Rc<OwnedFd>;

/// Turns a negative result into the `io::Error` it stands for.
pub fn check(result: i32) -> io::Result<usize> {
    usize::try_from(result).map_err(|_| io::Error::from_raw_os_error(-result))
}

/// A read's result: the count, with `buf`'s length set to it.
///
/// # Safety
/// `result` must be the completion of a read into `buf`'s spare capacity
/// (from its start, at most its capacity), so that a count of `n` means the
/// kernel initialised the first `n` bytes.
pub(crate) unsafe fn filled(
    mut buf: Vec<u8>,
    result: i32,
) -> (io::Result<usize>, Vec<u8>) {
    let n = check(result);
    if let Ok(n) = n {
        // SAFETY: the caller guarantees the kernel wrote these `n` bytes.
        unsafe { buf.set_len(n) };
    }
    (n, buf)
}

// ANCHOR: read
/// Reads into `buf` (up to its capacity); hands the buffer back with the count.
#[derive(Debug)]
pub struct Read {
    /// What to read from.
    pub fd: SharedFd,
    /// Where to put the bytes: its spare capacity, from its start.
    pub buf: Vec<u8>,
}

impl Operation for Read {
    type Output = (io::Result<usize>, Vec<u8>);

    fn entry(&mut self) -> squeue::Entry {
        let capacity = u32::try_from(self.buf.capacity()).unwrap_or(u32::MAX);
        opcode::Read::new(
            types::Fd(self.fd.as_raw_fd()),
            self.buf.as_mut_ptr(),
            capacity,
        )
        .offset(u64::MAX) // the file's current position (pipes have none)
        .build()
    }

    fn complete(self, result: i32) -> Self::Output {
        // SAFETY: `result` completes the read `entry` made into the buffer's
        // capacity, from its start.
        unsafe { filled(self.buf, result) }
    }
}
// ANCHOR_END: read

/// Writes `buf`; hands it back with the count of bytes written.
#[derive(Debug)]
pub struct Write {
    /// What to write to.
    pub fd: SharedFd,
    /// The bytes to write.
    pub buf: Vec<u8>,
}

impl Operation for Write {
    type Output = (io::Result<usize>, Vec<u8>);

    fn entry(&mut self) -> squeue::Entry {
        let len = u32::try_from(self.buf.len()).unwrap_or(u32::MAX);
        opcode::Write::new(types::Fd(self.fd.as_raw_fd()), self.buf.as_ptr(), len)
            .offset(u64::MAX)
            .build()
    }

    fn complete(self, result: i32) -> Self::Output {
        (check(result), self.buf)
    }
}

/// Does nothing, through the ring.
#[derive(Debug)]
pub struct Nop;

impl Operation for Nop {
    type Output = io::Result<()>;
    fn entry(&mut self) -> squeue::Entry {
        opcode::Nop::new().build()
    }
    fn complete(self, result: i32) -> Self::Output {
        check(result).map(|_| ())
    }
}

/// A future that submits a NOP and completes with its completion.
pub fn nop() -> Op<Nop> {
    Op::new(Nop)
}

/// Both ends of a pipe, for the examples and tests.
#[derive(Debug, Clone)]
pub struct Pipe {
    /// The end to read from.
    pub reader: SharedFd,
    /// The end to write to.
    pub writer: SharedFd,
}

impl Pipe {
    /// A new pipe, both ends closed on exec.
    pub fn new() -> io::Result<Pipe> {
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for the two descriptors pipe2 writes.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: pipe2 succeeded: two open descriptors that nothing else owns.
        let (reader, writer) =
            unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        Ok(Pipe {
            reader: Rc::new(reader),
            writer: Rc::new(writer),
        })
    }

    /// Writes `data` at once with a plain `write(2)`, outside the ring, for
    /// a test that needs bytes to arrive at a moment of its choosing.
    pub fn write_now(&self, data: &[u8]) -> io::Result<usize> {
        // SAFETY: `data` is valid for reads of its length during the call,
        // and the pipe keeps the descriptor open.
        let n = unsafe {
            libc::write(self.writer.as_raw_fd(), data.as_ptr().cast(), data.len())
        };
        usize::try_from(n).map_err(|_| io::Error::last_os_error())
    }

    /// Reads up to `buf.capacity()` bytes.
    pub fn read(&self, buf: Vec<u8>) -> Op<Read> {
        Op::new(Read {
            fd: Rc::clone(&self.reader),
            buf,
        })
    }

    /// Writes `buf`.
    pub fn write(&self, buf: Vec<u8>) -> Op<Write> {
        Op::new(Write {
            fd: Rc::clone(&self.writer),
            buf,
        })
    }
}
