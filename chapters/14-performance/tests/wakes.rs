//! Wakes that a naive io_uring executor loses: from another thread while the
//! executor sleeps in `io_uring_enter`, and from a task during its own poll;
//! and signals arriving during the wait (EINTR) are survived.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use ch14_performance::executor::{runtime_or_skip, spawn, stats, yield_now};
use ch14_performance::time::sleep;
use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::Duration;

/// Ready once another thread has set the flag and called the waker.
#[derive(Default)]
struct FromThread {
    done: Arc<AtomicBool>,
    waker: Arc<Mutex<Option<Waker>>>,
}

impl Future for FromThread {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        *self.waker.lock().unwrap() = Some(cx.waker().clone());
        if self.done.load(Ordering::SeqCst) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

/// Runs `f` on a thread and fails the test if it does not finish in time:
/// a lost wake-up shows up as a hang.
fn within_a_minute(f: impl FnOnce() + Send + 'static) {
    let (tx, rx) = mpsc::channel();
    let worker = thread::spawn(move || {
        f();
        tx.send(()).unwrap();
    });
    rx.recv_timeout(Duration::from_secs(60))
        .expect("the executor hung: a wake-up was lost");
    worker.join().unwrap();
}

#[test]
fn a_waker_called_from_another_thread_ends_the_wait() {
    within_a_minute(|| {
        let Some(mut runtime) = runtime_or_skip() else {
            return;
        };
        for round in 0..200 {
            let future = FromThread::default();
            let (done, waker) =
                (Arc::clone(&future.done), Arc::clone(&future.waker));
            let helper = thread::spawn(move || {
                // Wake at varying moments, some while the executor is asleep.
                thread::sleep(Duration::from_micros(50 * (round % 20)));
                done.store(true, Ordering::SeqCst);
                loop {
                    if let Some(w) = waker.lock().unwrap().take() {
                        w.wake();
                        return;
                    }
                    thread::yield_now();
                }
            });
            runtime.block_on(future).unwrap();
            helper.join().unwrap();
        }
    });
}

/// Wakes itself `n` times during its own polls, then is ready.
struct SelfWaking(u32);

impl Future for SelfWaking {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 == 0 {
            return Poll::Ready(());
        }
        self.0 -= 1;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// Wakes itself during every poll until `stop` is set: a task that is always
/// ready. If the executor re-polled it within the same turn, the reactor would
/// never get a turn, the timer below would never fire, and `stop` never be set.
struct Busy(Rc<Cell<bool>>);

impl Future for Busy {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0.get() {
            return Poll::Ready(());
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

#[test]
fn a_task_that_wakes_itself_makes_progress_while_timers_run() {
    within_a_minute(|| {
        let Some(mut runtime) = runtime_or_skip() else {
            return;
        };
        runtime
            .block_on(async {
                let stop = Rc::new(Cell::new(false));
                spawn(Busy(Rc::clone(&stop)));
                // A task that is always ready must not stop the timers.
                sleep(Duration::from_millis(20)).await;
                stop.set(true);
                // A task waking itself a thousand times finishes too.
                spawn(SelfWaking(1_000));
            })
            .unwrap();
    });
}

extern "C" fn ignore(_: libc::c_int) {}

static HANDLED: std::sync::atomic::AtomicUsize =
    std::sync::atomic::AtomicUsize::new(0);

extern "C" fn count(_: libc::c_int) {
    HANDLED.fetch_add(1, Ordering::SeqCst);
}

/// Installs `handler` for SIGUSR1, without SA_RESTART, so that a signal
/// interrupts io_uring_enter.
fn on_sigusr1(handler: extern "C" fn(libc::c_int)) {
    // SAFETY: `sa` is fully initialised (zeroed, then the handler set), and
    // the handlers are async-signal-safe (nothing, or one atomic add).
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = handler as *const () as usize;
        libc::sigemptyset(&mut sa.sa_mask);
        assert_eq!(libc::sigaction(libc::SIGUSR1, &sa, std::ptr::null_mut()), 0);
    }
}

/// The system call thread `tid` of this process is blocked in, if any
/// (`/proc/self/task/TID/syscall` starts with its number; "running" if none).
fn blocked_in(tid: libc::pid_t) -> Option<i64> {
    let path = format!("/proc/self/task/{tid}/syscall");
    let text = std::fs::read_to_string(path).ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// Waits until thread `tid` sleeps in io_uring_enter.
fn until_asleep(tid: libc::pid_t) {
    while blocked_in(tid) != Some(libc::SYS_io_uring_enter) {
        thread::yield_now();
    }
}

#[test]
fn a_signal_during_the_wait_does_not_silence_wakes_from_other_threads() {
    within_a_minute(|| {
        let Some(mut runtime) = runtime_or_skip() else {
            return;
        };
        on_sigusr1(count);
        // SAFETY: gettid and pthread_self have no preconditions.
        let (tid, me) = unsafe { (libc::gettid(), libc::pthread_self() as usize) };
        // A far timer, so that the wait has a deadline (a wait with one is
        // where Linux reports EINTR; without, it resumes the wait itself).
        // Only the other thread's wake can end the wait in time.
        let future = FromThread::default();
        let (done, waker) = (Arc::clone(&future.done), Arc::clone(&future.waker));
        let helper = thread::spawn(move || {
            until_asleep(tid);
            let before = HANDLED.load(Ordering::SeqCst);
            // SAFETY: `me` is the executor's thread, alive until we return.
            unsafe { libc::pthread_kill(me as libc::pthread_t, libc::SIGUSR1) };
            while HANDLED.load(Ordering::SeqCst) == before {
                thread::yield_now();
            }
            // The handler ran: the wait returned EINTR. Once the executor
            // sleeps again, wake it from here.
            until_asleep(tid);
            done.store(true, Ordering::SeqCst);
            waker.lock().unwrap().take().unwrap().wake();
        });
        let woken = runtime
            .block_on(async {
                // A turn that submits the reactor's own entries without
                // waiting: the wait below then submits nothing, and a
                // signal during it makes io_uring_enter fail with EINTR
                // (a wait that did submit reports its count instead).
                yield_now().await;
                let mut watchdog = std::pin::pin!(sleep(Duration::from_secs(30)));
                let mut future = std::pin::pin!(future);
                std::future::poll_fn(|cx| {
                    if watchdog.as_mut().poll(cx).is_ready() {
                        return Poll::Ready(false);
                    }
                    future.as_mut().poll(cx).map(|()| true)
                })
                .await
            })
            .unwrap();
        helper.join().unwrap();
        assert!(woken, "the wake was lost; only the timer ended the wait");
        let interrupted = runtime.stats().interrupted;
        assert!(interrupted > 0, "the signal did not interrupt the wait");
    });
}

#[test]
fn signals_during_the_wait_are_survived() {
    let Some(mut runtime) = runtime_or_skip() else {
        return;
    };
    on_sigusr1(ignore);
    // SAFETY: pthread_self has no preconditions.
    let me = unsafe { libc::pthread_self() } as usize;
    let stop = Arc::new(AtomicBool::new(false));
    let stopper = Arc::clone(&stop);
    let signaller = thread::spawn(move || {
        while !stopper.load(Ordering::SeqCst) {
            // SAFETY: `me` is the test thread, alive until `stop` is set.
            unsafe { libc::pthread_kill(me as libc::pthread_t, libc::SIGUSR1) };
            thread::sleep(Duration::from_millis(2));
        }
    });
    let interrupted = runtime
        .block_on(async {
            sleep(Duration::from_millis(300)).await;
            stats().interrupted
        })
        .unwrap();
    stop.store(true, Ordering::SeqCst);
    signaller.join().unwrap();
    assert!(interrupted > 0, "no signal arrived during the wait");
}
