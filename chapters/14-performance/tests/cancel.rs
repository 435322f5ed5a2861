//! Dropping an operation in flight cancels it: a timed-out accept does not
//! take a later client, a timed-out `Event::wait` does not swallow the next
//! notification, a timed-out `write_all` writes nothing after the next
//! message, and a runtime dropped with a blocked linked write-then-read
//! closes its socket. (What cancel alone cannot fix, an operation that had
//! completed when it was dropped, is `salvage.rs`'s subject.)

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use ch14_performance::echo::{round_trip, serve};
use ch14_performance::executor::{Runtime, parked, runtime_or_skip, spawn};
use ch14_performance::net::{TcpListener, TcpStream};
use ch14_performance::sync::Event;
use ch14_performance::task::timeout;
use ch14_performance::time::sleep;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::time::Duration;

fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// Waits (in turns of 1 ms, for 10 s at most) until no operation is parked:
/// every cancelled operation has posted its own last completion.
async fn settle() {
    for _ in 0..10_000 {
        if parked() == 0 {
            return;
        }
        sleep(Duration::from_millis(1)).await;
    }
    panic!("{} cancelled operations never completed", parked());
}

/// A blocking std peer that fails instead of hanging when nothing comes.
fn peer(addr: SocketAddr) -> std::net::TcpStream {
    let stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
}

#[test]
fn timed_out_accepts_leave_later_clients_to_the_live_accept() {
    let Some(mut runtime) = runtime_or_skip() else {
        return;
    };
    const CLIENTS: usize = 20;
    runtime
        .block_on(async {
            let listener = TcpListener::bind(loopback()).unwrap();
            let addr = listener.local_addr();
            for _ in 0..CLIENTS {
                let waited =
                    timeout(Duration::from_millis(1), listener.accept()).await;
                assert!(waited.is_err(), "nobody connected yet");
            }
            settle().await; // the accepts are cancelled, not waiting
            let clients = std::thread::spawn(move || {
                for i in 0..CLIENTS {
                    let mut client = peer(addr);
                    client.write_all(&[i as u8]).unwrap();
                    let mut back = [0];
                    client.read_exact(&mut back).unwrap();
                    assert_eq!(back, [i as u8], "client {i} was not served");
                }
            });
            serve(listener, Some(CLIENTS)).await.unwrap();
            while !clients.is_finished() {
                sleep(Duration::from_millis(1)).await;
            }
            clients.join().unwrap();
        })
        .unwrap();
}

#[test]
fn a_dropped_listener_with_timed_out_accepts_frees_its_port() {
    let Some(mut runtime) = runtime_or_skip() else {
        return;
    };
    runtime
        .block_on(async {
            let listener = TcpListener::bind(loopback()).unwrap();
            let addr = listener.local_addr();
            for _ in 0..5 {
                let _ = timeout(Duration::from_millis(1), listener.accept()).await;
            }
            drop(listener);
            settle().await;
            // Nothing holds the listening socket: its port can be bound again.
            TcpListener::bind(addr).unwrap();
        })
        .unwrap();
}

#[test]
fn a_timed_out_event_wait_leaves_the_next_notification_to_the_next_wait() {
    let Some(mut runtime) = runtime_or_skip() else {
        return;
    };
    runtime
        .block_on(async {
            let event = Event::new().unwrap();
            for round in 0..6 {
                let missed = timeout(Duration::from_millis(1), event.wait()).await;
                assert!(missed.is_err(), "round {round}: nothing was notified");
                settle().await;
                event.notifier().notify().unwrap();
                let got = timeout(Duration::from_secs(10), event.wait()).await;
                assert_eq!(got.unwrap().unwrap(), 1, "round {round}");
            }
        })
        .unwrap();
}

#[test]
fn an_abandoned_write_sends_nothing_after_the_next_message() {
    let Some(mut runtime) = runtime_or_skip() else {
        return;
    };
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (go, ready) = std::sync::mpsc::channel();
    // The reader waits until the writer gave up, then reads everything.
    let reader = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        ready.recv().unwrap();
        let mut received = Vec::new();
        stream.read_to_end(&mut received).unwrap();
        received
    });
    runtime
        .block_on(async {
            let stream = TcpStream::connect(addr).await.unwrap();
            let big = vec![b'x'; 32 << 20]; // far more than the socket buffers
            let gave_up =
                timeout(Duration::from_millis(50), stream.write_all(big)).await;
            assert!(gave_up.is_err(), "the peer reads nothing yet");
            settle().await;
            go.send(()).unwrap();
            let (sent, _) = stream.write_all(b"END".to_vec()).await;
            sent.unwrap();
        })
        .unwrap();
    let received = reader.join().unwrap();
    assert!(
        received.ends_with(b"END"),
        "{} bytes, not ending in END",
        received.len()
    );
    let before = &received[..received.len() - 3];
    assert!(
        before.iter().all(|&b| b == b'x'),
        "END arrived inside the abandoned write"
    );
}

#[test]
fn dropping_the_runtime_cancels_both_halves_of_a_blocked_write_then_read() {
    let Some(mut runtime) = runtime_or_skip() else {
        return;
    };
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (gone, runtime_gone) = std::sync::mpsc::channel::<()>();
    let client = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        // Read nothing until the runtime is gone; then drain to the end.
        runtime_gone.recv().unwrap();
        let mut sink = Vec::new();
        stream.read_to_end(&mut sink).map(|_| sink.len())
    });
    // The block_on ends by a panic while a task's send is blocked: its
    // operation is dropped with the runtime still holding the ring.
    let stopped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        runtime.block_on(async {
            let stream = TcpStream::connect(addr).await.unwrap();
            spawn(async move {
                let out = vec![b'y'; 32 << 20];
                let _ = stream.write_then_read(out, Vec::with_capacity(16)).await;
            });
            sleep(Duration::from_millis(50)).await;
            panic!("stop with the write in flight");
        })
    }));
    assert!(stopped.is_err());
    drop(runtime);
    gone.send(()).unwrap();
    // The socket was closed, so the peer reaches the end of the stream.
    let drained = client.join().unwrap();
    assert!(drained.is_ok(), "the socket was never closed: {drained:?}");
}

#[test]
fn the_echo_server_works_on_a_ring_of_two_entries() {
    if runtime_or_skip().is_none() {
        return;
    }
    let mut runtime = Runtime::with_entries(2).unwrap();
    runtime
        .block_on(async {
            let listener = TcpListener::bind(loopback()).unwrap();
            let addr = listener.local_addr();
            spawn(async move { serve(listener, Some(3)).await.unwrap() });
            for _ in 0..3 {
                let stream = TcpStream::connect(addr).await.unwrap();
                for len in [1, 100, 3_000] {
                    let sent = vec![7u8; len];
                    assert_eq!(
                        round_trip(&stream, sent.clone()).await.unwrap(),
                        sent
                    );
                }
            }
        })
        .unwrap();
}
