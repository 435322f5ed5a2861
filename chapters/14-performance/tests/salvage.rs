//! Cancel-safe operations: what a dropped operation produced anyway goes to
//! the next caller of the same resource. Each test forces the race: the
//! operation's completion is reaped in a turn while its future is not
//! polled, and the future is dropped then, after the kernel has done the
//! work; other rounds drop it just before or just after the data arrives.
//! In every case the next caller gets exactly what was sent, in order.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use ch14_performance::executor::{
    parked, poll_once, runtime_or_skip, spawn, stats, yield_now,
};
use ch14_performance::net::{TcpListener, TcpStream, UdpSocket};
use ch14_performance::sync::Event;
use ch14_performance::task::{Either, race, timeout};
use ch14_performance::time::sleep;
use std::cell::RefCell;
use std::future::Future;
use std::io::Write;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// When, relative to the data's arrival, a round drops its operation.
#[derive(Debug, Clone, Copy)]
enum Moment {
    /// Before the data was sent: the cancel finds the operation waiting.
    Before,
    /// Right after the data was sent, before any turn of the reactor.
    RightAfter,
    /// After the completion was reaped, with the future not polled.
    AfterCompletion,
}

const MOMENTS: [Moment; 3] =
    [Moment::Before, Moment::RightAfter, Moment::AfterCompletion];

/// `future`'s output, or a failure after 10 s: what a lost result looks like
/// (the next caller would otherwise wait forever for it).
async fn within<F: Future>(future: F) -> F::Output {
    timeout(Duration::from_secs(10), future)
        .await
        .expect("nothing came: the dropped operation's result was lost")
}

/// Starts `future` (its operation reaches the kernel), runs `arrive` at the
/// round's moment, and drops the future.
async fn abandon_around<F: Future>(
    future: F,
    moment: Moment,
    arrive: impl FnOnce(),
) {
    let mut future = Box::pin(future);
    assert!(
        poll_once(&mut future).await.is_pending(),
        "finished at once"
    );
    yield_now().await; // submitted
    match moment {
        Moment::Before => {
            drop(future);
            arrive();
        }
        Moment::RightAfter => {
            arrive();
            drop(future);
        }
        Moment::AfterCompletion => {
            let before = stats().completions;
            arrive();
            while stats().completions == before {
                yield_now().await; // reaped, and not taken
            }
            drop(future);
        }
    }
}

#[test]
fn a_dropped_read_leaves_what_it_received_to_the_next_read() {
    let Some(mut runtime) = runtime_or_skip() else {
        return;
    };
    runtime
        .block_on(async {
            let listener = TcpListener::bind(loopback()).unwrap();
            let mut peer =
                std::net::TcpStream::connect(listener.local_addr()).unwrap();
            let (stream, _) = listener.accept().await.unwrap();
            let mut salvaged = 0;
            for round in 0..300 {
                let moment = MOMENTS[round % 3];
                let message = format!("message {round};");
                let read = stream.read(Vec::with_capacity(64));
                abandon_around(read, moment, || {
                    peer.write_all(message.as_bytes()).unwrap()
                })
                .await;
                salvaged += stream.salvaged();
                // Whether the dropped read was cancelled in time or had taken
                // the bytes, the next reads return exactly this message.
                let mut got = Vec::new();
                while got.len() < message.len() {
                    let want = message.len() - got.len();
                    let (n, buf) =
                        within(stream.read(Vec::with_capacity(want))).await;
                    assert!(n.unwrap() > 0, "round {round}: end of stream");
                    got.extend_from_slice(&buf);
                }
                assert_eq!(got, message.as_bytes(), "round {round} ({moment:?})");
            }
            assert!(salvaged >= 100, "only {salvaged} rounds were salvaged");
        })
        .unwrap();
}

#[test]
fn salvaged_bytes_larger_than_the_next_buffer_come_in_order() {
    let Some(mut runtime) = runtime_or_skip() else {
        return;
    };
    runtime
        .block_on(async {
            let listener = TcpListener::bind(loopback()).unwrap();
            let mut peer =
                std::net::TcpStream::connect(listener.local_addr()).unwrap();
            let (stream, _) = listener.accept().await.unwrap();
            let read = stream.read(Vec::with_capacity(64));
            abandon_around(read, Moment::AfterCompletion, || {
                peer.write_all(b"0123456789").unwrap();
            })
            .await;
            assert_eq!(stream.salvaged(), 1);
            peer.write_all(b"later").unwrap();
            let mut got = Vec::new();
            for _ in 0..4 {
                let (n, buf) = within(stream.read(Vec::with_capacity(4))).await;
                got.extend_from_slice(&buf[..n.unwrap()]);
            }
            // Salvaged bytes first, at most four at a time, then the kernel's.
            assert_eq!(got, b"0123456789late");
        })
        .unwrap();
}

#[test]
fn a_dropped_accept_leaves_its_connection_to_the_next_accept() {
    let Some(mut runtime) = runtime_or_skip() else {
        return;
    };
    runtime
        .block_on(async {
            let listener = TcpListener::bind(loopback()).unwrap();
            let addr = listener.local_addr();
            let mut salvaged = 0;
            for round in 0..150 {
                let mut client = None;
                let accept = listener.accept();
                abandon_around(accept, MOMENTS[round % 3], || {
                    client = Some(std::net::TcpStream::connect(addr).unwrap());
                })
                .await;
                salvaged += listener.salvaged();
                let client = client.unwrap();
                let (stream, peer) = within(listener.accept()).await.unwrap();
                assert_eq!(
                    peer,
                    client.local_addr().unwrap(),
                    "round {round}: another client"
                );
                drop((stream, client));
            }
            assert!(salvaged >= 50, "only {salvaged} rounds were salvaged");
        })
        .unwrap();
}

#[test]
fn a_dropped_event_wait_gives_its_notifications_back() {
    let Some(mut runtime) = runtime_or_skip() else {
        return;
    };
    runtime
        .block_on(async {
            let event = Event::new().unwrap();
            let notifier = event.notifier();
            for round in 0..150 {
                abandon_around(event.wait(), MOMENTS[round % 3], || {
                    notifier.notify().unwrap();
                    notifier.notify().unwrap();
                })
                .await;
                // Whatever the dropped wait took went back into the eventfd.
                let mut total = 0;
                while total < 2 {
                    total += within(event.wait()).await.unwrap();
                }
                assert_eq!(total, 2, "round {round}");
            }
        })
        .unwrap();
}

#[test]
fn a_dropped_receive_leaves_its_datagram_to_the_next_receive() {
    let Some(mut runtime) = runtime_or_skip() else {
        return;
    };
    runtime
        .block_on(async {
            let socket = UdpSocket::bind(loopback()).unwrap();
            let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            let to = socket.local_addr();
            let mut salvaged = 0;
            for round in 0..150 {
                let datagram = format!("datagram {round}");
                let receive = socket.recv_from(Vec::with_capacity(64));
                abandon_around(receive, MOMENTS[round % 3], || {
                    sender.send_to(datagram.as_bytes(), to).unwrap();
                })
                .await;
                salvaged += usize::from(round % 3 == 2);
                let (got, buf) =
                    within(socket.recv_from(Vec::with_capacity(64))).await;
                let (n, from) = got.unwrap();
                assert_eq!(&buf[..n], datagram.as_bytes(), "round {round}");
                assert_eq!(from, sender.local_addr().unwrap());
            }
            assert!(salvaged > 0);
        })
        .unwrap();
}

#[test]
fn racing_a_read_against_a_timer_loses_no_byte() {
    let Some(mut runtime) = runtime_or_skip() else {
        return;
    };
    runtime
        .block_on(async {
            let listener = TcpListener::bind(loopback()).unwrap();
            let addr = listener.local_addr();
            let writer = std::thread::spawn(move || {
                let mut peer = std::net::TcpStream::connect(addr).unwrap();
                for i in 0..2_000u32 {
                    peer.write_all(&i.to_le_bytes()).unwrap();
                    if i % 50 == 0 {
                        std::thread::sleep(Duration::from_micros(200));
                    }
                }
            });
            let (stream, _) = listener.accept().await.unwrap();
            let mut got = Vec::new();
            let (mut timer_won, mut salvaged) = (0, 0);
            while got.len() < 8_000 {
                // A timer so short that it often wins, and polled first, so
                // that it wins even when the read has taken bytes in the same
                // turn: those must come back on the next read.
                let read = stream.read(Vec::with_capacity(64));
                match race(sleep(Duration::from_micros(50)), read).await {
                    Either::Left(()) => {
                        timer_won += 1;
                        salvaged += usize::from(stream.salvaged() > 0);
                    }
                    Either::Right((n, buf)) => {
                        assert!(
                            n.unwrap() > 0,
                            "end of stream after {} bytes",
                            got.len()
                        );
                        got.extend_from_slice(&buf);
                    }
                }
            }
            writer.join().unwrap();
            let expected: Vec<u8> =
                (0..2_000u32).flat_map(u32::to_le_bytes).collect();
            assert_eq!(got, expected, "a byte was lost or reordered");
            assert!(
                timer_won > 0 && salvaged > 0,
                "the timer won {timer_won} times, over a read with bytes \
                 {salvaged} times: the test proves nothing"
            );
        })
        .unwrap();
}

/// Connecting streams of our own, too: `TcpStream::connect` is an operation
/// like any other, and a connected stream salvages like an accepted one.
#[test]
fn a_connected_stream_salvages_too() {
    let Some(mut runtime) = runtime_or_skip() else {
        return;
    };
    runtime
        .block_on(async {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let stream = TcpStream::connect(listener.local_addr().unwrap())
                .await
                .unwrap();
            let (mut peer, _) = listener.accept().unwrap();
            let read = stream.read(Vec::with_capacity(16));
            abandon_around(read, Moment::AfterCompletion, || {
                peer.write_all(b"kept").unwrap();
            })
            .await;
            let (n, buf) = within(stream.read(Vec::with_capacity(16))).await;
            assert_eq!(&buf[..n.unwrap()], b"kept");
        })
        .unwrap();
}

#[test]
fn a_multishot_accept_dropped_with_connections_in_flight_closes_them_with_the_listener()
 {
    let Some(mut runtime) = runtime_or_skip() else {
        return;
    };
    runtime
        .block_on(async {
            let listener =
                TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
            let mut incoming = listener.incoming();
            let clients: Vec<_> = (0..20)
                .map(|_| {
                    std::net::TcpStream::connect(listener.local_addr()).unwrap()
                })
                .collect();
            let first = incoming.next().await.unwrap();
            while incoming.queued() < 19 {
                yield_now().await;
            }
            drop(incoming);
            assert_eq!(listener.salvaged(), 19);
            drop(listener);
            drop(first);
            while parked() > 0 {
                sleep(Duration::from_millis(1)).await; // the cancel completes
            }
            // The listener's connections went with its last owner: closed.
            // Each client sees its connection closed (end of stream).
            for mut client in clients {
                use std::io::Read;
                client
                    .set_read_timeout(Some(Duration::from_secs(10)))
                    .unwrap();
                let mut rest = Vec::new();
                assert!(
                    client.read_to_end(&mut rest).is_ok(),
                    "a connection stayed open"
                );
            }
        })
        .unwrap();
}

#[test]
fn a_plain_accept_beside_a_multishot_one_holds_neither_up() {
    let Some(mut runtime) = runtime_or_skip() else {
        return;
    };
    runtime
        .block_on(async {
            let listener = Rc::new(TcpListener::bind(loopback()).unwrap());
            let addr = listener.local_addr();
            let accepted = Rc::new(RefCell::new(Vec::new()));
            let (l, a) = (Rc::clone(&listener), Rc::clone(&accepted));
            // A task with a plain accept waiting in the kernel until told to
            // stop...
            let stop = Event::new().unwrap();
            let notifier = stop.notifier();
            spawn(async move {
                if let Either::Left(Ok((_, peer))) =
                    race(l.accept(), stop.wait()).await
                {
                    a.borrow_mut().push(peer);
                }
            });
            yield_now().await;
            // ...while this one takes connections from a multishot accept:
            // it must not wait for the plain accept to finish.
            let mut incoming = listener.incoming();
            let clients: Vec<_> = (0..6)
                .map(|_| std::net::TcpStream::connect(addr).unwrap())
                .collect();
            for _ in 0..200 {
                if accepted.borrow().len() == clients.len() {
                    break;
                }
                let next =
                    race(incoming.next(), sleep(Duration::from_millis(50))).await;
                if let Either::Left(next) = next {
                    accepted.borrow_mut().push(next.unwrap().1);
                }
            }
            notifier.notify().unwrap();
            let mut peers = accepted.borrow().clone();
            peers.sort();
            let mut expected: Vec<_> =
                clients.iter().map(|c| c.local_addr().unwrap()).collect();
            expected.sort();
            assert_eq!(peers, expected, "lost, accepted twice, or held up");
        })
        .unwrap();
}
