//! The bound on operations in flight: what does not fit waits for room, and
//! the trap a bound sets, in its smallest form. A read in flight waits for
//! data that only a write can bring, and the write waits for the room the
//! read holds: neither ever ends. A timeout on the read is the way out.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use ch13_uring_pool::executor::{
    Pool, poll_once, pool_or_skip, spawn, stats, until_submitted,
};
use ch13_uring_pool::op::Pipe;
use ch13_uring_pool::task::{Either, race, timeout};
use ch13_uring_pool::time::sleep;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

fn pool_of_one_operation() -> Option<Pool> {
    pool_or_skip(1)?;
    Some(Pool::builder().max_in_flight(1).build().unwrap())
}

#[test]
fn an_operation_beyond_the_bound_waits_for_room() {
    let Some(pool) = pool_of_one_operation() else {
        return;
    };
    pool.block_on(async {
        let (first, second) = (Pipe::new().unwrap(), Pipe::new().unwrap());
        let reader = first.clone();
        // The read must hold the room before the write is spawned: a worker
        // could otherwise poll the write first, which would then never wait.
        let holds_room = Arc::new(AtomicBool::new(false));
        let holds = holds_room.clone();
        let read = spawn(async move {
            let mut read = Box::pin(reader.read(Vec::with_capacity(8)));
            let _ = poll_once(&mut read).await; // registered: it has the room
            holds.store(true, Ordering::SeqCst);
            read.await
        });
        while !holds_room.load(Ordering::SeqCst) {
            ch13_uring_pool::task::yield_now().await;
        }
        until_submitted().await;
        // Another pipe altogether: the write waits only for room.
        let writer = second.clone();
        let write = spawn(async move { writer.write(b"ok".to_vec()).await });
        while stats().waited_for_room == 0 {
            ch13_uring_pool::task::yield_now().await;
        }
        first.write_now(b"data").unwrap(); // the read ends, and makes room
        let (n, _) = read.await.unwrap().unwrap();
        assert_eq!(n.unwrap(), 4);
        let (n, _) = write.await.unwrap().unwrap();
        assert_eq!(n.unwrap(), 2);
    })
    .unwrap();
}

// ANCHOR: trap
#[test]
fn the_trap_a_read_waits_for_a_write_that_waits_for_room() {
    let Some(pool) = pool_of_one_operation() else {
        return;
    };
    pool.block_on(async {
        let pipe = Pipe::new().unwrap();
        let reader = pipe.clone();
        // The read holds the one room; the write, which would feed it,
        // waits for that room.
        let read = spawn(async move {
            timeout(
                Duration::from_millis(50),
                reader.read(Vec::with_capacity(8)),
            )
            .await
        });
        until_submitted().await;
        let writer = pipe.clone();
        let write = spawn(async move { writer.write(b"late".to_vec()).await });
        // Without the read's timeout, neither would end: this shows it.
        let stuck = race(
            async {
                while !write.is_finished() {
                    sleep(Duration::from_millis(1)).await
                }
            },
            sleep(Duration::from_millis(20)),
        );
        assert!(
            matches!(stuck.await, Either::Right(())),
            "the write went first?"
        );
        // The timeout drops the read, its cancel frees the room, and the
        // write goes; what it wrote is there for the next read.
        assert!(read.await.unwrap().is_err(), "the read timed out");
        let (n, _) = write.await.unwrap().unwrap();
        assert_eq!(n.unwrap(), 4);
        let (n, buf) = pipe.read(Vec::with_capacity(8)).await.unwrap();
        assert_eq!(&buf[..n.unwrap()], b"late");
    })
    .unwrap();
}
// ANCHOR_END: trap
