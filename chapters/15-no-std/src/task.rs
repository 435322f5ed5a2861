//! Tasks in static storage: a header that wakers point to, and room for one
//! future whose size is known when the program is compiled.

use crate::executor::Executor;
use core::cell::UnsafeCell;
use core::fmt;
use core::future::Future;
use core::mem::MaybeUninit;
use core::pin::Pin;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicPtr, AtomicU8, Ordering};
use core::task::{Context, Poll};

/// The task holds a future: it was spawned and has not finished.
pub(crate) const SPAWNED: u8 = 1;
/// The task is in its executor's run queue.
pub(crate) const QUEUED: u8 = 2;
/// `spawn` is writing a new future into the storage.
const SPAWNING: u8 = 4;

// ANCHOR: header
/// What every task has, whatever its future: the part a waker points to.
pub struct TaskHeader {
    /// `SPAWNED`, `QUEUED` and `SPAWNING`: the only field a waker changes.
    pub(crate) state: AtomicU8,
    /// The next task in the run queue (see `queue.rs`).
    pub(crate) next: AtomicPtr<TaskHeader>,
    /// The executor the task was last spawned on.
    pub(crate) executor: AtomicPtr<Executor>,
    /// How to poll and drop the future in the storage; written by `spawn`.
    vtable: UnsafeCell<Option<FutureVTable>>,
    name: &'static str,
}

/// A task: its header, then room for a future of up to `SIZE` bytes.
#[repr(C)]
pub struct Task<const SIZE: usize> {
    header: TaskHeader,
    future: UnsafeCell<Storage<SIZE>>,
}

/// Raw bytes aligned for any future this crate accepts (see `spawn`).
#[repr(C, align(16))]
struct Storage<const SIZE: usize>([MaybeUninit<u8>; SIZE]);
// ANCHOR_END: header

/// The two things the executor does with a future it cannot name.
#[derive(Clone, Copy)]
struct FutureVTable {
    poll: unsafe fn(NonNull<TaskHeader>, &mut Context<'_>) -> Poll<()>,
    drop: unsafe fn(NonNull<TaskHeader>),
}

// SAFETY: the header's plain fields (`vtable`, `name`) and the storage are
// written only by `spawn`, which first wins the change of `state` from 0 (no
// future, not queued), and are read only by the one executor that takes the
// task from its run queue afterwards; everything else is atomic.
unsafe impl<const SIZE: usize> Sync for Task<SIZE> {}

// ANCHOR: future-size
/// The size of the future an `async fn` returns, for sizing its task's
/// storage in a `static`: `static T: Task<{ future_size(&my_task) }>`.
/// The compiler knows every future's size; this asks it for the one
/// `f(args)` would return, without calling `f`.
pub const fn future_size<Args, F: TaskFn<Args>>(_f: &F) -> usize {
    size_of::<F::Future>()
}

/// A function that returns a future, for [`future_size`]: implemented for
/// functions and closures of up to three arguments.
pub trait TaskFn<Args> {
    /// The future it returns.
    type Future;
}
// ANCHOR_END: future-size

impl<F: FnOnce() -> Fut, Fut> TaskFn<()> for F {
    type Future = Fut;
}
impl<F: FnOnce(A) -> Fut, A, Fut> TaskFn<(A,)> for F {
    type Future = Fut;
}
impl<F: FnOnce(A, B) -> Fut, A, B, Fut> TaskFn<(A, B)> for F {
    type Future = Fut;
}
impl<F: FnOnce(A, B, C) -> Fut, A, B, C, Fut> TaskFn<(A, B, C)> for F {
    type Future = Fut;
}

/// A task that `spawn` filled, for the executor to queue if needed.
pub(crate) struct Spawned {
    pub(crate) task: TaskRef,
    pub(crate) needs_queueing: bool,
}

/// Why a task could not be spawned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpawnError {
    /// The task (named) still runs its previous future, or has just
    /// finished and a stale wake of it is still queued: try again after it
    /// finished. The future passed to `spawn` was dropped.
    Busy(&'static str),
}

impl fmt::Display for SpawnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpawnError::Busy(name) => write!(
                f,
                "task `{name}` is busy: its storage still holds a future that has not finished"
            ),
        }
    }
}

impl<const SIZE: usize> Task<SIZE> {
    /// An empty task, for a `static`.
    pub const fn new(name: &'static str) -> Self {
        Task {
            header: TaskHeader {
                state: AtomicU8::new(0),
                next: AtomicPtr::new(core::ptr::null_mut()),
                executor: AtomicPtr::new(core::ptr::null_mut()),
                vtable: UnsafeCell::new(None),
                name,
            },
            future: UnsafeCell::new(Storage([MaybeUninit::uninit(); SIZE])),
        }
    }

    /// The name given to [`Task::new`].
    pub fn name(&self) -> &'static str {
        self.header.name
    }

    /// Whether the task holds a future that has not finished.
    pub fn is_running(&self) -> bool {
        self.header.state.load(Ordering::Acquire) & SPAWNED != 0
    }

    /// The pointer a waker carries.
    pub fn task_ref(&'static self) -> TaskRef {
        TaskRef(NonNull::from(&self.header))
    }

    // ANCHOR: spawn
    /// Moves `future` into the task's storage and queues the task on
    /// `executor`. See [`Executor::spawn`].
    pub(crate) fn spawn<F>(
        &'static self,
        executor: &'static Executor,
        future: F,
    ) -> Result<Spawned, SpawnError>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        const {
            assert!(
                size_of::<F>() <= SIZE,
                "the task's storage is smaller than its future: size it with future_size(&the_async_fn)"
            );
            assert!(align_of::<F>() <= align_of::<Storage<SIZE>>());
        }
        // Claim the storage: no future in it, and nobody else spawning. The
        // task may still be queued, by a wake that came as its previous
        // future finished; that entry stays and will run the new future.
        let mut state = self.header.state.load(Ordering::Acquire);
        loop {
            if state & (SPAWNED | SPAWNING) != 0 {
                return Err(SpawnError::Busy(self.header.name));
            }
            match self.header.state.compare_exchange_weak(
                state,
                state | SPAWNING,
                Ordering::Acquire,
                Ordering::Acquire,
            ) {
                Ok(_) => break,
                Err(now) => state = now,
            }
        }
        let executor = core::ptr::from_ref(executor).cast_mut();
        if state & QUEUED != 0
            && self.header.executor.load(Ordering::Relaxed) != executor
        {
            // That stale entry is in another executor's queue, which would
            // poll the new future there too.
            self.header.state.fetch_and(!SPAWNING, Ordering::Release);
            return Err(SpawnError::Busy(self.header.name));
        }
        // SAFETY: the storage is aligned and large enough for `F` (checked
        // above, at compile time) and holds no future (SPAWNED was clear).
        // SPAWNING makes this the only code touching it and the vtable, and
        // the executor polls only tasks it sees SPAWNED, which is set below,
        // after these writes.
        unsafe {
            self.future.get().cast::<F>().write(future);
            *self.header.vtable.get() = Some(FutureVTable {
                poll: poll_future::<F, SIZE>,
                drop: drop_future::<F, SIZE>,
            });
        }
        self.header.executor.store(executor, Ordering::Relaxed);
        let update = |state| Some((state & !SPAWNING) | SPAWNED | QUEUED);
        let before = self.header.state.fetch_update(
            Ordering::AcqRel,
            Ordering::Acquire,
            update,
        );
        // Never fails: the closure always returns Some.
        let before = before.unwrap_or_else(|state| state);
        // Queued already (that stale entry), or to be queued by the caller.
        Ok(Spawned {
            task: self.task_ref(),
            needs_queueing: before & QUEUED == 0,
        })
    }
    // ANCHOR_END: spawn
}

/// # Safety
/// `header` is the header of a `Task<SIZE>` whose storage holds an `F`, and
/// the caller is the only one polling it.
unsafe fn poll_future<F: Future<Output = ()>, const SIZE: usize>(
    header: NonNull<TaskHeader>,
    cx: &mut Context<'_>,
) -> Poll<()> {
    // SAFETY: `Task` is `repr(C)` with the header first, so the header's
    // address is the task's; the storage holds an `F` (the caller's promise).
    // The future stays where it is until `drop_future`: storage in a
    // `static` never moves, which is the pinning `poll` needs.
    unsafe {
        let task = header.cast::<Task<SIZE>>().as_ref();
        let future = &mut *task.future.get().cast::<F>();
        Pin::new_unchecked(future).poll(cx)
    }
}

/// # Safety
/// As for `poll_future`; the future is not used again.
unsafe fn drop_future<F, const SIZE: usize>(header: NonNull<TaskHeader>) {
    // SAFETY: as in `poll_future`; dropped in place, as a pinned value must be.
    unsafe {
        let task = header.cast::<Task<SIZE>>().as_ref();
        task.future.get().cast::<F>().drop_in_place();
    }
}

// ANCHOR: task-ref
/// A pointer to a task's header: what a waker carries. Copying it is free
/// and it needs no count, because the task it points to is `'static`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct TaskRef(NonNull<TaskHeader>);
// ANCHOR_END: task-ref

// SAFETY: a TaskRef only points to the header of a `'static` Task, whose
// shared state is atomic (see the `Sync` impl of `Task`).
unsafe impl Send for TaskRef {}
// SAFETY: as for Send.
unsafe impl Sync for TaskRef {}

impl fmt::Debug for TaskRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TaskRef").field(&self.name()).finish()
    }
}

impl TaskRef {
    pub(crate) fn header(self) -> &'static TaskHeader {
        // SAFETY: made only from `&'static Task` (see `Task::task_ref`) or
        // from a waker that was made from one (see `waker.rs`).
        unsafe { self.0.as_ref() }
    }

    pub(crate) fn as_ptr(self) -> *const () {
        self.0.as_ptr().cast_const().cast()
    }

    /// # Safety
    /// `ptr` came from [`TaskRef::as_ptr`].
    pub(crate) unsafe fn from_ptr(ptr: *const ()) -> TaskRef {
        // SAFETY: the caller's promise: it is a header pointer, not null.
        TaskRef(unsafe { NonNull::new_unchecked(ptr.cast_mut().cast()) })
    }

    /// The task's name.
    pub fn name(self) -> &'static str {
        self.header().name
    }

    /// # Safety
    /// Only the task's executor calls this, from its run loop, after taking
    /// the task from its queue and seeing `SPAWNED`.
    pub(crate) unsafe fn poll(self, cx: &mut Context<'_>) -> Poll<()> {
        // SAFETY: SPAWNED means `spawn` wrote the vtable and the future, and
        // the queue hand-over ordered those writes before this read.
        let vtable = unsafe { (*self.header().vtable.get()).unwrap_unchecked() };
        // SAFETY: the vtable was made for this task's future; the caller is
        // the only poller.
        unsafe { (vtable.poll)(self.0, cx) }
    }

    /// # Safety
    /// As for `poll`, after it returned `Ready`.
    pub(crate) unsafe fn drop_future(self) {
        // SAFETY: as in `poll`.
        let vtable = unsafe { (*self.header().vtable.get()).unwrap_unchecked() };
        // SAFETY: as in `poll`; the executor clears SPAWNED right after.
        unsafe { (vtable.drop)(self.0) }
    }
}
