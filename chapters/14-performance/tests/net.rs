//! TCP and UDP on the io_uring runtime: an echo server for 1,000 concurrent
//! clients that loses and reorders nothing, errors that say what failed, and a
//! reset that ends only the connection it hit.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use ch14_performance::echo::{round_trip, serve};
use ch14_performance::executor::{runtime_or_skip, spawn};
use ch14_performance::net::{TcpListener, TcpStream, UdpSocket};
use std::cell::Cell;
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::rc::Rc;

fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// Message `seq` of client `client`: its length varies from 1 to 1,500 bytes
/// and every byte depends on both numbers, so any loss or reordering shows.
fn message(client: usize, seq: usize) -> Vec<u8> {
    let len = 1 + (client * 131 + seq * 37) % 1_500;
    (0..len)
        .map(|i| (client * 7 + seq * 13 + i) as u8)
        .collect()
}

#[test]
fn an_echo_server_serves_a_thousand_clients_without_losing_a_byte() {
    let Some(mut runtime) = runtime_or_skip() else {
        return;
    };
    const CLIENTS: usize = 1_000;
    const MESSAGES: usize = 100;
    let checked = Rc::new(Cell::new(0usize));
    let c = Rc::clone(&checked);
    runtime
        .block_on(async move {
            let listener = TcpListener::bind(loopback()).unwrap();
            let addr = listener.local_addr();
            spawn(async move { serve(listener, Some(CLIENTS)).await.unwrap() });
            for client in 0..CLIENTS {
                let c = Rc::clone(&c);
                spawn(async move {
                    let stream = TcpStream::connect(addr).await.unwrap();
                    for seq in 0..MESSAGES {
                        let sent = message(client, seq);
                        let reply =
                            round_trip(&stream, sent.clone()).await.unwrap();
                        assert_eq!(reply, sent, "client {client}, message {seq}");
                        c.set(c.get() + 1);
                    }
                });
            }
        })
        .unwrap();
    assert_eq!(checked.get(), CLIENTS * MESSAGES);
}

#[test]
fn connecting_to_a_closed_port_is_refused_with_the_address() {
    let Some(mut runtime) = runtime_or_skip() else {
        return;
    };
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let err = runtime
        .block_on(TcpStream::connect(closed))
        .unwrap()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
    assert!(
        err.to_string().contains(&format!("connect to {closed}")),
        "{err}"
    );
}

#[test]
fn binding_a_used_port_says_which() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let err = TcpListener::bind(addr).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AddrInUse);
    assert!(
        err.to_string()
            .contains(&format!("cannot listen on {addr}")),
        "{err}"
    );
}

/// Closes `stream` with a reset (SO_LINGER 0) instead of an orderly close.
fn reset(stream: std::net::TcpStream) {
    use std::os::fd::AsRawFd;
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: setsockopt reads the `linger` struct it is given the size of.
    let rc = unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0);
    drop(stream);
}

#[test]
fn a_reset_mid_stream_fails_only_its_own_connection() {
    let Some(mut runtime) = runtime_or_skip() else {
        return;
    };
    let (outcome, other) = runtime
        .block_on(async {
            let listener = TcpListener::bind(loopback()).unwrap();
            let addr = listener.local_addr();
            // Two clients on plain blocking sockets, in threads; the second
            // connects only after the first was accepted, so that `a` is the
            // rude one.
            let rude = std::thread::spawn(move || {
                let mut s = std::net::TcpStream::connect(addr).unwrap();
                std::io::Write::write_all(&mut s, b"hello").unwrap();
                std::thread::sleep(std::time::Duration::from_millis(50));
                reset(s);
            });
            let (a, _) = listener.accept().await.unwrap();
            let polite = std::thread::spawn(move || {
                let mut s = std::net::TcpStream::connect(addr).unwrap();
                std::thread::sleep(std::time::Duration::from_millis(100));
                std::io::Write::write_all(&mut s, b"still fine").unwrap();
                let mut back = [0u8; 10];
                std::io::Read::read_exact(&mut s, &mut back).unwrap();
                back
            });
            let (b, _) = listener.accept().await.unwrap();
            // Read until each connection ends or errors; echo on the second.
            let mut outcome = Vec::new();
            loop {
                let (n, _) = a.read(Vec::with_capacity(64)).await;
                match n {
                    Ok(0) => {
                        outcome.push("eof".to_string());
                        break;
                    }
                    Ok(_) => outcome.push("data".to_string()),
                    Err(e) => {
                        outcome.push(format!("{:?}", e.kind()));
                        break;
                    }
                }
            }
            let reply = round_trip_server(&b).await;
            rude.join().unwrap();
            let back = polite.join().unwrap();
            assert_eq!(&back, b"still fine");
            (outcome, reply)
        })
        .unwrap();
    assert_eq!(
        outcome.last().map(String::as_str),
        Some("ConnectionReset"),
        "{outcome:?}"
    );
    assert_eq!(other, b"still fine");
}

async fn round_trip_server(stream: &TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    while got.len() < 10 {
        let (n, chunk) = stream.read(Vec::with_capacity(10)).await;
        assert!(n.unwrap() > 0);
        got.extend_from_slice(&chunk);
    }
    let (done, _) = stream.write_all(got.clone()).await;
    done.unwrap();
    got
}

#[test]
fn udp_datagrams_go_both_ways_with_their_addresses() {
    let Some(mut runtime) = runtime_or_skip() else {
        return;
    };
    runtime
        .block_on(async {
            let a = UdpSocket::bind(loopback()).unwrap();
            let b = UdpSocket::bind(loopback()).unwrap();
            let (sent, _) = a.send_to(b"ping".to_vec(), b.local_addr()).await;
            assert_eq!(sent.unwrap(), 4);
            let (got, buf) = b.recv_from(Vec::with_capacity(64)).await;
            let (n, from) = got.unwrap();
            assert_eq!((&buf[..n], from), (&b"ping"[..], a.local_addr()));
            // Connected: send and recv without addresses.
            a.connect(b.local_addr()).unwrap();
            b.connect(a.local_addr()).unwrap();
            let (sent, _) = b.send(b"pong".to_vec()).await;
            assert_eq!(sent.unwrap(), 4);
            let (n, buf) = a.recv(Vec::with_capacity(64)).await;
            assert_eq!(&buf[..n.unwrap()], b"pong");
        })
        .unwrap();
}

#[test]
fn a_linked_write_then_read_reports_the_write_failing() {
    let Some(mut runtime) = runtime_or_skip() else {
        return;
    };
    let result = runtime
        .block_on(async {
            let listener = TcpListener::bind(loopback()).unwrap();
            let addr = listener.local_addr();
            let client = std::thread::spawn(move || {
                let s = std::net::TcpStream::connect(addr).unwrap();
                reset(s);
            });
            let (server, _) = listener.accept().await.unwrap();
            client.join().unwrap();
            // The peer is gone: the write fails, the linked read is cancelled,
            // and the whole operation reports the write's error.
            let (read, out, into) = server
                .write_then_read(vec![1; 64], Vec::with_capacity(64))
                .await;
            assert_eq!(
                (out.len(), into.capacity()),
                (64, 64),
                "both buffers come back"
            );
            read
        })
        .unwrap();
    let err = result.unwrap_err();
    assert!(
        matches!(
            err.kind(),
            ErrorKind::ConnectionReset | ErrorKind::BrokenPipe
        ),
        "{err:?}"
    );
}
