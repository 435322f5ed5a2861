//! An operation always goes back to the reactor that started it, whichever
//! pool (or none) runs the thread it is dropped or polled on, so safe code
//! cannot make the kernel write into freed memory; a nested `block_on` is
//! refused; and sizes of ring the runtime cannot work with are refused.
//!
//! Each canary below fills fresh buffers of the read's size after the read's
//! future is gone (where freed memory would be reused), then makes the data
//! arrive: a fresh buffer that changes means the kernel wrote freed memory.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use ch13_uring_pool::executor::{
    Pool, poll_once, pool_or_skip, until_submitted, yield_now,
};
use ch13_uring_pool::op::{Op, Pipe, Read};

const SIZE: usize = 4096;

/// Fresh buffers of the read's size, where a freed one would be reused.
fn fresh_buffers() -> Vec<Vec<u8>> {
    (0..16).map(|_| vec![0xAA; SIZE]).collect()
}

fn assert_untouched(fresh: &[Vec<u8>]) {
    for buf in fresh {
        assert!(
            buf.iter().all(|&b| b == 0xAA),
            "the kernel wrote into freed memory"
        );
    }
}

/// A read in flight, submitted by `runtime` (one turn after its first poll).
fn read_in_flight(runtime: &Pool, pipe: &Pipe) -> Op<Read> {
    runtime
        .block_on(async {
            let mut read = pipe.read(Vec::with_capacity(SIZE));
            assert!(poll_once(&mut read).await.is_pending());
            until_submitted().await; // a turn: the read reaches the kernel
            // Handed out in flight, on purpose: it outlives this block_on.
            Some(read)
        })
        .unwrap()
        .expect("returned above")
}

/// Turns `runtime` until it has no parked operation left.
fn settle(runtime: &Pool) {
    for _ in 0..10_000 {
        if runtime.parked() == 0 {
            return;
        }
        runtime.block_on(yield_now()).unwrap();
    }
    panic!("{} operations stay parked", runtime.parked());
}

#[test]
fn an_operation_dropped_outside_block_on_parks_in_its_own_reactor() {
    let Some(runtime) = pool_or_skip(2) else {
        return;
    };
    let pipe = Pipe::new().unwrap();
    let read = read_in_flight(&runtime, &pipe);
    drop(read); // no pool's thread here
    // The buffer waits in the reactor until the read's last completion,
    // which the cancel brings (perhaps already).
    assert_eq!(
        {
            let (parked, stats) = runtime.parked_and_stats();
            parked as u64 + stats.parked_completions
        },
        1,
        "the buffer was not parked"
    );
    let fresh = fresh_buffers();
    pipe.write_now(&[0x55; SIZE]).unwrap();
    settle(&runtime);
    assert_untouched(&fresh);
}

#[test]
fn an_operation_dropped_inside_another_runtime_parks_in_its_own() {
    let Some(first) = pool_or_skip(2) else {
        return;
    };
    let second = Pool::new().unwrap();
    let pipe = Pipe::new().unwrap();
    let read = read_in_flight(&first, &pipe);
    second.block_on(async move { drop(read) }).unwrap();
    assert_eq!(second.parked(), 0, "parked in a reactor that never saw it");
    assert_eq!(
        {
            let (parked, stats) = first.parked_and_stats();
            parked as u64 + stats.parked_completions
        },
        1,
        "not parked where it was started"
    );
    let fresh = fresh_buffers();
    pipe.write_now(&[0x55; SIZE]).unwrap();
    settle(&first);
    assert_untouched(&fresh);
}

#[test]
fn an_operation_polled_in_another_pool_completes_through_its_own_ring() {
    let Some(first) = pool_or_skip(2) else {
        return;
    };
    let second = Pool::new().unwrap();
    let pipe = Pipe::new().unwrap();
    let stray = read_in_flight(&first, &pipe);
    let (n, buf) = second
        .block_on(async {
            pipe.write_now(&[0x55; SIZE]).unwrap();
            // `first`'s ring thread reaps the completion and wakes this
            // task's waker, which belongs to `second`: no ring is confused.
            stray.await.unwrap()
        })
        .unwrap();
    assert_eq!((n.unwrap(), buf.len()), (SIZE, SIZE));
    assert!(buf.iter().all(|&b| b == 0x55));
    assert_eq!((first.parked(), second.parked()), (0, 0));
}

#[test]
fn a_runtime_dropped_with_an_operation_alive_waits_for_the_operation() {
    let Some(runtime) = pool_or_skip(2) else {
        return;
    };
    let pipe = Pipe::new().unwrap();
    let read = read_in_flight(&runtime, &pipe);
    drop(runtime); // the read keeps its reactor, and the ring, alive
    let fresh = fresh_buffers();
    drop(read); // the last owner: cancelled, and its completion awaited
    pipe.write_now(&[0x55; SIZE]).unwrap();
    assert_untouched(&fresh);
}

#[test]
fn a_nested_block_on_is_refused_with_an_error() {
    let Some(runtime) = pool_or_skip(2) else {
        return;
    };
    let message = runtime
        .block_on(async {
            let inner = Pool::new().unwrap();
            let nested = inner.block_on(async { 1 });
            let free = ch13_uring_pool::executor::block_on(async { 2 });
            assert!(free.is_err(), "the free block_on nested too");
            nested.map(|_| ()).unwrap_err().to_string()
        })
        .unwrap();
    assert!(message.contains("from a pool's thread"), "{message}");
    // The refusal left the outer runtime working.
    assert_eq!(runtime.block_on(async { 3 }).unwrap(), 3);
}

#[test]
fn rings_too_small_or_too_large_are_refused_and_the_smallest_works() {
    if pool_or_skip(2).is_none() {
        return;
    }
    for entries in [0, 1, 65_536] {
        let err = Pool::with_entries(entries).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{err}");
        assert!(err.to_string().contains("2 to 32768"), "{err}");
    }
    // Two entries are enough (tests/cancel.rs runs the echo server, whose
    // replies are linked pairs, on a ring of two).
    let runtime = Pool::with_entries(2).unwrap();
    runtime
        .block_on(async {
            let pipe = Pipe::new().unwrap();
            for _ in 0..10 {
                let (sent, _) = pipe.write(b"x".to_vec()).await.unwrap();
                sent.unwrap();
                let (got, _) = pipe.read(Vec::with_capacity(1)).await.unwrap();
                assert_eq!(got.unwrap(), 1);
            }
        })
        .unwrap();
}

/// A waker that asks the runtime something when it is called: code of the
/// user's, which the reactor must not be holding itself when it runs.
struct Curious {
    task: std::task::Waker,
    completions_seen: std::sync::atomic::AtomicU64,
}

impl std::task::Wake for Curious {
    fn wake(self: std::sync::Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        let seen = ch13_uring_pool::executor::stats().completions;
        self.completions_seen
            .store(seen, std::sync::atomic::Ordering::SeqCst);
        self.task.wake_by_ref();
    }
}

#[test]
fn a_waker_may_use_the_runtime_when_an_operation_or_a_timer_wakes_it() {
    use std::future::Future;
    use std::sync::Arc;
    use std::sync::atomic::Ordering;
    use std::task::{Context, Poll, Waker};
    let Some(runtime) = pool_or_skip(2) else {
        return;
    };
    runtime
        .block_on(async {
            let mut nop = Box::pin(ch13_uring_pool::op::nop());
            let mut nap = Box::pin(ch13_uring_pool::time::sleep(
                std::time::Duration::from_millis(1),
            ));
            let mut curious = None;
            let (mut nop_done, mut nap_done) = (false, false);
            std::future::poll_fn(|cx| {
                let waker = curious.get_or_insert_with(|| {
                    Arc::new(Curious {
                        task: cx.waker().clone(),
                        completions_seen: 0.into(),
                    })
                });
                let as_waker = Waker::from(Arc::clone(waker));
                let mut inner = Context::from_waker(&as_waker);
                nop_done = nop_done || nop.as_mut().poll(&mut inner).is_ready();
                nap_done = nap_done || nap.as_mut().poll(&mut inner).is_ready();
                if nop_done && nap_done {
                    Poll::Ready(())
                } else {
                    Poll::Pending
                }
            })
            .await;
            let seen = curious.unwrap().completions_seen.load(Ordering::SeqCst);
            assert!(seen > 0, "the waker ran and saw the runtime");
        })
        .unwrap();
}
