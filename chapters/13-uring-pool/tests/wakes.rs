//! Wakes that a naive io_uring executor loses: from another thread while the
//! executor sleeps in `io_uring_enter`, and from a task during its own poll;
//! and signals arriving during the wait (EINTR) are survived.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

mod shared;
use shared::{Shared, within_a_minute};

use ch13_uring_pool::executor::{
    poll_once, pool_or_skip, spawn, stats, until_submitted,
};
use ch13_uring_pool::op::nop;
use ch13_uring_pool::time::sleep;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
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

#[test]
fn a_waker_called_from_another_thread_ends_the_wait() {
    within_a_minute(|| {
        let Some(runtime) = pool_or_skip(2) else {
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
struct Busy(Arc<Shared<bool>>);

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
        let Some(runtime) = pool_or_skip(2) else {
            return;
        };
        runtime
            .block_on(async {
                let stop = Arc::new(Shared::new(false));
                spawn(Busy(Arc::clone(&stop)));
                // A task that is always ready must not stop the timers.
                sleep(Duration::from_millis(20)).await;
                stop.set(true);
                // A task waking itself a thousand times finishes too.
                spawn(SelfWaking(1_000)).await.unwrap();
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
fn a_signal_during_the_wait_does_not_silence_the_doorbell() {
    within_a_minute(|| {
        let Some(runtime) = pool_or_skip(2) else {
            return;
        };
        on_sigusr1(count);
        let (tid, ring) = runtime.ring_thread();
        let ring = ring as usize;
        // The block_on thread waits for the helper; then it queues a NOP,
        // which only the doorbell can bring to the ring thread's notice,
        // asleep (with a far timer, so that its wait has a deadline: that
        // is where Linux reports EINTR) since before the signal.
        let future = FromThread::default();
        let (done, waker) = (Arc::clone(&future.done), Arc::clone(&future.waker));
        let helper = thread::spawn(move || {
            // A few signals, each while the ring thread sleeps: a wait that
            // submitted entries reports their count when interrupted, one
            // that submitted nothing fails with EINTR; by the second, the
            // ring thread sleeps with nothing to submit.
            for _ in 0..5 {
                until_asleep(tid);
                let before = HANDLED.load(Ordering::SeqCst);
                // SAFETY: `ring` is the ring thread, alive until the pool goes.
                unsafe {
                    libc::pthread_kill(ring as libc::pthread_t, libc::SIGUSR1)
                };
                while HANDLED.load(Ordering::SeqCst) == before {
                    thread::yield_now();
                }
            }
            // Once the ring thread sleeps again, have work queued for it.
            until_asleep(tid);
            done.store(true, Ordering::SeqCst);
            loop {
                if let Some(w) = waker.lock().unwrap().take() {
                    w.wake();
                    break;
                }
                thread::yield_now(); // the future is not polled yet
            }
        });
        let woken = runtime
            .block_on(async {
                // Polled once now, so that the ring thread's wait has its
                // deadline from the start.
                let mut watchdog = Box::pin(sleep(Duration::from_secs(30)));
                let _ = poll_once(&mut watchdog).await;
                until_submitted().await;
                future.await;
                let mut nop = std::pin::pin!(nop());
                std::future::poll_fn(|cx| {
                    if watchdog.as_mut().poll(cx).is_ready() {
                        return Poll::Ready(false);
                    }
                    nop.as_mut().poll(cx).map(|done| {
                        done.unwrap().unwrap();
                        true
                    })
                })
                .await
            })
            .unwrap();
        helper.join().unwrap();
        assert!(
            woken,
            "the doorbell was lost; only the timer ended the wait"
        );
        let interrupted = runtime.stats().interrupted;
        assert!(interrupted > 0, "the signal did not interrupt the wait");
    });
}

#[test]
fn signals_during_the_wait_are_survived() {
    let Some(runtime) = pool_or_skip(2) else {
        return;
    };
    on_sigusr1(ignore);
    let ring = runtime.ring_thread().1 as usize;
    let stop = Arc::new(AtomicBool::new(false));
    let stopper = Arc::clone(&stop);
    let signaller = thread::spawn(move || {
        while !stopper.load(Ordering::SeqCst) {
            // SAFETY: `ring` is the ring thread, alive until the pool goes.
            unsafe { libc::pthread_kill(ring as libc::pthread_t, libc::SIGUSR1) };
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
