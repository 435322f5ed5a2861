//! Multishot receive into the provided buffer ring: every byte arrives, in
//! order; each buffer goes back to the ring when its `RecvBuf` is dropped;
//! a receive that finds the ring empty waits for a buffer instead of
//! failing or spinning; a dropped receive loses nothing; and a runtime
//! without a ring says so.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use ch14_performance::bufring::Chunk;
use ch14_performance::echo::{Recv, echo_multishot, echo_ring_buffers};
use ch14_performance::executor::{
    Runtime, buffers_out, poll_once, spawn, stats, yield_now,
};
use ch14_performance::net::{TcpListener, TcpStream};
use ch14_performance::ring::{self, Tuning};
use ch14_performance::task::timeout;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::time::Duration;

fn runtime(buffers: Option<(u16, u32)>) -> Option<Runtime> {
    ring::open_or_skip(8)?;
    let tuning = Tuning {
        buffers,
        ..Tuning::default()
    };
    Some(Runtime::with_tuning(64, &tuning).unwrap())
}

fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

const LONG: Duration = Duration::from_secs(20);

/// `n` connections: each a plain client socket and the runtime's stream.
async fn connections(n: usize) -> Vec<(std::net::TcpStream, TcpStream)> {
    let listener = TcpListener::bind(loopback()).unwrap();
    let mut pairs = Vec::new();
    for _ in 0..n {
        let client = std::net::TcpStream::connect(listener.local_addr()).unwrap();
        pairs.push((client, listener.accept().await.unwrap().0));
    }
    pairs
}

/// Yields until the reactor has reaped more completions than `before`.
async fn until_completions_pass(before: u64) {
    timeout(LONG, async {
        while stats().completions <= before {
            yield_now().await;
        }
    })
    .await
    .expect("no completion came");
}

#[test]
fn an_echo_over_multishot_receive_returns_every_byte_and_every_buffer() {
    echo_every_byte(Recv::Multishot);
}

#[test]
fn an_echo_over_linked_ring_buffer_receives_returns_every_byte_and_every_buffer() {
    echo_every_byte(Recv::LinkedRingBuffers);
}

fn echo_every_byte(recv: Recv) {
    let Some(mut runtime) = runtime(Some((8, 64))) else {
        return;
    };
    runtime
        .block_on(async {
            let listener = TcpListener::bind(loopback()).unwrap();
            let addr = listener.local_addr();
            // 64-byte buffers and 8 of them: 20,000 bytes take many buffers,
            // many times over each.
            let client = std::thread::spawn(move || {
                let mut s = std::net::TcpStream::connect(addr).unwrap();
                let sent: Vec<u8> =
                    (0..20_000u32).map(|i| (i * 7 % 251) as u8).collect();
                let mut back = vec![0; sent.len()];
                for (out, into) in sent.chunks(1000).zip(back.chunks_mut(1000)) {
                    s.write_all(out).unwrap();
                    s.read_exact(into).unwrap();
                }
                assert_eq!(back, sent, "the echo changed the bytes");
            });
            let (stream, _) = listener.accept().await.unwrap();
            let echo = async {
                match recv {
                    Recv::Multishot => echo_multishot(stream).await,
                    _ => echo_ring_buffers(stream).await,
                }
            };
            timeout(LONG, echo).await.unwrap().unwrap();
            client.join().unwrap();
            assert_eq!(buffers_out(), 0, "a buffer never went back to the ring");
        })
        .unwrap();
}

#[test]
fn a_receive_that_finds_the_ring_empty_waits_for_a_buffer() {
    let Some(mut runtime) = runtime(Some((2, 64))) else {
        return;
    };
    runtime
        .block_on(async {
            let (mut clients, streams): (Vec<_>, Vec<_>) =
                connections(3).await.into_iter().unzip();
            for (i, c) in clients.iter_mut().enumerate() {
                c.write_all(&[i as u8; 10]).unwrap();
            }
            let mut first = streams[0].recv_many().unwrap();
            let mut second = streams[1].recv_many().unwrap();
            let mut third = streams[2].recv_many().unwrap();
            let a = timeout(LONG, first.next()).await.unwrap().unwrap().unwrap();
            let b = timeout(LONG, second.next())
                .await
                .unwrap()
                .unwrap()
                .unwrap();
            assert_eq!(buffers_out(), 2);
            // Both buffers are held: the third receive must wait, however
            // often it is polled, and not fail.
            let mut waiting = Box::pin(third.next());
            for _ in 0..20 {
                assert!(poll_once(&mut waiting).await.is_pending());
                yield_now().await;
            }
            drop(waiting);
            // It waits for a buffer, not in a loop of submissions that the
            // kernel fails at once: submitted once, failed, submitted at most
            // once more (before the failure came).
            assert!(third.arms() <= 2, "submitted {} times", third.arms());
            let mut waiting = Box::pin(third.next());
            assert!(poll_once(&mut waiting).await.is_pending());
            assert_eq!((&a[..], &b[..]), (&[0u8; 10][..], &[1u8; 10][..]));
            drop(a);
            let c = timeout(LONG, waiting).await.unwrap().unwrap().unwrap();
            assert_eq!(&c[..], &[2u8; 10][..]);
            drop((b, c));
            assert_eq!(buffers_out(), 0);
        })
        .unwrap();
}

#[test]
fn a_dropped_receive_leaves_what_it_got_for_the_next_read() {
    let Some(mut runtime) = runtime(Some((4, 64))) else {
        return;
    };
    runtime
        .block_on(async {
            let listener = TcpListener::bind(loopback()).unwrap();
            let mut client =
                std::net::TcpStream::connect(listener.local_addr()).unwrap();
            let (stream, _) = listener.accept().await.unwrap();
            let mut received = stream.recv_many().unwrap();
            // Armed (first poll), then bytes arrive that nobody takes.
            let mut next = Box::pin(received.next());
            assert!(poll_once(&mut next).await.is_pending());
            drop(next);
            client.write_all(b"kept for later").unwrap();
            // Wait until the kernel has completed the receive into a buffer,
            // then drop it with the bytes there, untaken.
            timeout(LONG, async {
                while received.queued() == 0 {
                    yield_now().await;
                }
            })
            .await
            .unwrap();
            assert_eq!(buffers_out(), 0, "a completion, not yet a RecvBuf");
            drop(received);
            let (n, buf) = stream.read(Vec::with_capacity(64)).await;
            assert_eq!(&buf[..n.unwrap()], b"kept for later");
            assert_eq!(buffers_out(), 0, "the dropped receive kept a buffer");
            // And a new multishot receive gets what comes next.
            let mut received = stream.recv_many().unwrap();
            client.write_all(b"and then").unwrap();
            let chunk = timeout(LONG, received.next())
                .await
                .unwrap()
                .unwrap()
                .unwrap();
            assert!(matches!(chunk, Chunk::Ring(_)));
            assert_eq!(&chunk[..], b"and then");
        })
        .unwrap();
}

#[test]
fn many_connections_share_few_buffers() {
    let Some(mut runtime) = runtime(Some((4, 128))) else {
        return;
    };
    runtime
        .block_on(async {
            let listener = TcpListener::bind(loopback()).unwrap();
            let addr = listener.local_addr();
            let clients = std::thread::spawn(move || {
                let mut streams: Vec<_> = (0..50)
                    .map(|_| std::net::TcpStream::connect(addr).unwrap())
                    .collect();
                for round in 0..20u8 {
                    for s in &mut streams {
                        s.write_all(&[round; 100]).unwrap();
                    }
                    for s in &mut streams {
                        let mut back = [0; 100];
                        s.read_exact(&mut back).unwrap();
                        assert_eq!(back, [round; 100]);
                    }
                }
            });
            let mut echoes = Vec::new();
            for _ in 0..50 {
                let (stream, _) = listener.accept().await.unwrap();
                echoes.push(spawn(echo_multishot(stream)));
            }
            for echo in echoes {
                timeout(LONG, echo).await.unwrap().unwrap().unwrap();
            }
            clients.join().unwrap();
            assert_eq!(buffers_out(), 0);
        })
        .unwrap();
}

#[test]
fn recv_many_without_a_buffer_ring_says_what_is_missing() {
    let Some(mut runtime) = runtime(None) else {
        return;
    };
    runtime
        .block_on(async {
            let listener = TcpListener::bind(loopback()).unwrap();
            let _client =
                std::net::TcpStream::connect(listener.local_addr()).unwrap();
            let (stream, _): (TcpStream, _) = listener.accept().await.unwrap();
            let err = stream.recv_many().unwrap_err();
            assert!(err.to_string().contains("Tuning::buffers"), "{err}");
        })
        .unwrap();
}

#[test]
fn a_linked_receive_that_finds_the_ring_empty_waits_after_its_send() {
    let Some(mut runtime) = runtime(Some((1, 64))) else {
        return;
    };
    runtime
        .block_on(async {
            let mut pairs = connections(2).await;
            let ((mut b, sb), (mut a, sa)) =
                (pairs.pop().unwrap(), pairs.pop().unwrap());
            a.write_all(b"from a").unwrap();
            // The one buffer holds a's bytes.
            let held = timeout(LONG, sa.recv_buf())
                .await
                .unwrap()
                .unwrap()
                .unwrap();
            assert_eq!(buffers_out(), 1);
            b.write_all(b"from b").unwrap();
            let mut waiting =
                Box::pin(sb.send_then_recv(Chunk::Salvaged(b"reply".to_vec())));
            // Its first poll submits the send and the receive; the receive
            // fails for want of a buffer, and from then on it waits: no more
            // receives go to the kernel however often it is polled.
            assert!(poll_once(&mut waiting).await.is_pending());
            until_completions_pass(stats().completions).await;
            let after_first = stats().completions;
            for _ in 0..20 {
                assert!(poll_once(&mut waiting).await.is_pending());
                yield_now().await;
            }
            assert!(
                stats().completions <= after_first + 1,
                "{} more completions while it waited: it resubmitted",
                stats().completions - after_first
            );
            // The send went out while the receive waits for a buffer.
            let mut reply = [0; 5];
            b.read_exact(&mut reply).unwrap();
            assert_eq!(&reply, b"reply");
            assert_eq!(&held[..], b"from a");
            drop(held);
            let got = timeout(LONG, waiting).await.unwrap().unwrap().unwrap();
            assert_eq!(&got[..], b"from b");
        })
        .unwrap();
}

#[test]
fn a_dropped_linked_receive_leaves_what_it_got_for_the_next_read() {
    let Some(mut runtime) = runtime(Some((4, 64))) else {
        return;
    };
    runtime
        .block_on(async {
            let (mut client, stream) = connections(1).await.pop().unwrap();
            let mut receive = Box::pin(stream.recv_buf());
            assert!(poll_once(&mut receive).await.is_pending());
            let before = stats().completions;
            client.write_all(b"not lost").unwrap();
            // Wait until the kernel has completed it into a ring buffer, then
            // drop it untaken: the bytes must reach the next read.
            until_completions_pass(before).await;
            drop(receive);
            let (n, buf) = timeout(LONG, stream.read(Vec::with_capacity(64)))
                .await
                .unwrap();
            assert_eq!(&buf[..n.unwrap()], b"not lost");
            assert_eq!(buffers_out(), 0);
        })
        .unwrap();
}
