//! The exercise solutions do what the exercises ask.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use ch10_uring_net::echo::serve;
use ch10_uring_net::executor::{runtime_or_skip, spawn};
use ch10_uring_net::exercises::{read_line, udp_echo};
use ch10_uring_net::net::{TcpListener, TcpStream, UdpSocket};

#[test]
fn the_udp_echo_answers_each_sender() {
    let Some(mut runtime) = runtime_or_skip() else {
        return;
    };
    runtime
        .block_on(async {
            let server = UdpSocket::bind("127.0.0.1:0".parse().unwrap()).unwrap();
            let addr = server.local_addr();
            spawn(async move { udp_echo(&server, 3).await.unwrap() });
            for word in ["one", "two", "three"] {
                let client =
                    UdpSocket::bind("127.0.0.1:0".parse().unwrap()).unwrap();
                let (sent, _) =
                    client.send_to(word.as_bytes().to_vec(), addr).await;
                sent.unwrap();
                let (got, buf) = client.recv_from(Vec::with_capacity(64)).await;
                let (n, from) = got.unwrap();
                assert_eq!((&buf[..n], from), (word.as_bytes(), addr));
            }
        })
        .unwrap();
}

#[test]
fn read_line_splits_what_arrives_into_lines() {
    let Some(mut runtime) = runtime_or_skip() else {
        return;
    };
    runtime
        .block_on(async {
            let listener =
                TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
            let addr = listener.local_addr();
            spawn(async move { serve(listener, Some(1)).await.unwrap() });
            let stream = TcpStream::connect(addr).await.unwrap();
            let (sent, _) =
                stream.write_all(b"first\nsecond\nthird".to_vec()).await;
            sent.unwrap();
            let (a, rest) = read_line(&stream, Vec::new()).await.unwrap();
            let (b, rest) = read_line(&stream, rest).await.unwrap();
            assert_eq!((a.as_str(), b.as_str()), ("first\n", "second\n"));
            stream.shutdown(std::net::Shutdown::Write).await.unwrap();
            let (c, _) = read_line(&stream, rest).await.unwrap();
            assert_eq!(c, "third");
        })
        .unwrap();
}
