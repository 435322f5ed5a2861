//! Wakes that a naive io_uring executor loses: from another thread while the
//! executor sleeps in `io_uring_enter`, and from a task during its own poll;
//! and signals arriving during the wait (EINTR) are survived.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use ch10_uring_net::executor::{runtime_or_skip, spawn, stats};
use ch10_uring_net::time::sleep;
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

#[test]
fn signals_during_the_wait_are_survived() {
    let Some(mut runtime) = runtime_or_skip() else {
        return;
    };
    // A handler without SA_RESTART, so a signal interrupts io_uring_enter.
    // SAFETY: `sa` is fully initialised (zeroed, then the handler set), and
    // `ignore` is async-signal-safe (it does nothing).
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = ignore as *const () as usize;
        libc::sigemptyset(&mut sa.sa_mask);
        assert_eq!(libc::sigaction(libc::SIGUSR1, &sa, std::ptr::null_mut()), 0);
    }
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
