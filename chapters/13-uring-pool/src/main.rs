//! Chapter 13: the pool at work. A task moves from one worker to the other
//! when the first is busy; a dropped handle detaches, `abort` cancels; a
//! task group fails as a whole; tokens cancel downwards; `spawn_blocking`
//! reuses its threads. `RUST_LOG=debug cargo run` shows the ring thread.
//!
//! Which worker is which differs from run to run, so workers are named by
//! the order in which this program first sees them: A, then B.

use ch13_uring_pool::executor::{current_worker, spawn};
use ch13_uring_pool::group::TaskGroup;
use ch13_uring_pool::sync::Event;
use ch13_uring_pool::task::spawn_blocking;
use ch13_uring_pool::time::sleep;
use ch13_uring_pool::token::CancellationToken;
use std::collections::HashSet;
use std::io;
use std::sync::mpsc;
use std::sync::{Arc, Barrier, Mutex};
use std::time::Duration;

/// Names workers A, B, ... in the order they are first seen.
#[derive(Default)]
struct Names(Mutex<Vec<usize>>);

impl Names {
    fn here(&self) -> char {
        let worker = current_worker().expect("called in a task");
        let mut seen = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let index = seen.iter().position(|&w| w == worker).unwrap_or_else(|| {
            seen.push(worker);
            seen.len() - 1
        });
        (b'A' + index as u8) as char
    }
}

// ANCHOR: main
#[ch13_uring_pool::main(workers = 2, blocking_threads = 2)]
async fn main() -> io::Result<()> {
    env_logger::init();
    moving_between_workers().await?;
    detach_and_abort().await?;
    a_group_fails_as_a_whole().await;
    tokens_cancel_downwards().await;
    blocking_threads_are_reused().await?;
    Ok(())
}
// ANCHOR_END: main

// ANCHOR: moving
/// A task is woken on whichever worker is free. Here a "hog" task holds a
/// worker's thread (a blocking wait, which a real task must never do) at
/// each step, so that the other worker is the only one that can poll; the
/// second hog lets the first go only once it holds its own worker.
async fn moving_between_workers() -> io::Result<()> {
    let names = Arc::new(Names::default());
    let (release_first, first_waits) = mpsc::channel::<()>();
    let (first_holds, holding) = (Event::new()?, names.clone());
    let notifier = first_holds.notifier();
    spawn(async move {
        println!("hog 1 holds worker {}", holding.here());
        notifier.notify()?;
        let _ = first_waits.recv(); // blocks worker A's thread
        Ok::<_, io::Error>(())
    });
    first_holds.wait().await?;
    let mover = spawn(async move {
        println!("mover: first poll on worker {}", names.here());
        let (release_second, second_waits) = mpsc::channel::<()>();
        let second_holds = Event::new()?;
        let (notifier, holding) = (second_holds.notifier(), names.clone());
        spawn(async move {
            // A is held, and B runs the mover: this runs once the mover
            // waits, on B.
            println!("hog 2 holds worker {}", holding.here());
            notifier.notify()?;
            let _ = release_first.send(()); // worker A is free again
            let _ = second_waits.recv(); // blocks worker B's thread
            Ok::<_, io::Error>(())
        });
        second_holds.wait().await?; // woken while B is held: A polls
        println!("mover: woken on worker {}: it moved", names.here());
        let _ = release_second.send(());
        Ok::<_, io::Error>(())
    });
    mover.await??;
    Ok(())
}
// ANCHOR_END: moving

// ANCHOR: detach
/// Dropping a handle detaches its task; `abort` cancels one.
async fn detach_and_abort() -> io::Result<()> {
    let finished = Event::new()?;
    let notifier = finished.notifier();
    drop(spawn(async move {
        sleep(Duration::from_millis(20)).await;
        println!("the detached task finished its work");
        notifier.notify()
    }));
    let endless = spawn(async {
        loop {
            sleep(Duration::from_secs(3600)).await;
        }
    });
    endless.abort();
    match endless.join().await {
        Err(e) if e.is_cancelled() => println!("the endless task: {e}"),
        other => println!("the endless task ended otherwise: {other:?}"),
    }
    finished.wait().await?;
    Ok(())
}
// ANCHOR_END: detach

// ANCHOR: group
/// The first failure in a group cancels its token; the others see it and
/// stop; `join` waits for all of them, and names the task that failed.
async fn a_group_fails_as_a_whole() {
    let group = TaskGroup::new(&CancellationToken::new());
    let _ = group.spawn("fetch", async {
        sleep(Duration::from_millis(5)).await;
        Err(io::Error::other("connection refused"))
    });
    let token = group.token();
    let _ = group.spawn("poll", async move {
        token.cancelled().await;
        println!("poll: the group was cancelled; stopping");
        Ok(())
    });
    match group.join().await {
        Ok(()) => println!("the group succeeded?"),
        Err(e) => println!("the group failed: {e}"),
    }
}
// ANCHOR_END: group

// ANCHOR: tokens
/// Cancelling a child leaves its parent alone; cancelling the parent
/// reaches every child; work is not started on a cancelled token.
async fn tokens_cancel_downwards() {
    let server = CancellationToken::new();
    let (first, second) = (server.child_token(), server.child_token());
    first.cancel();
    println!(
        "first connection cancelled: server {}, second {}",
        server.is_cancelled(),
        second.is_cancelled()
    );
    server.cancel();
    println!("server cancelled: second {}", second.is_cancelled());
    let started = second
        .run_until_cancelled(async {
            println!("this never prints");
        })
        .await;
    println!("work on a cancelled token: {started:?}");
}
// ANCHOR_END: tokens

// ANCHOR: blocking
/// Eight blocking calls at once on a pool of at most two blocking threads:
/// they meet two by two at a barrier (so two threads must run at once), the
/// rest wait in the queue, and the same two threads serve all eight.
async fn blocking_threads_are_reused() -> io::Result<()> {
    let barrier = Arc::new(Barrier::new(2));
    let calls: Vec<_> = (0..8)
        .map(|_| {
            let barrier = Arc::clone(&barrier);
            spawn_blocking(move || {
                barrier.wait();
                std::thread::current().id()
            })
        })
        .collect();
    let mut threads = HashSet::new();
    for call in calls {
        threads.insert(call.await);
    }
    println!("8 blocking calls ran on {} threads", threads.len());
    Ok(())
}
// ANCHOR_END: blocking
