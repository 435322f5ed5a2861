//! Chapter 10: an echo server and its clients over TCP, and datagrams over
//! UDP, all on the io_uring runtime, all on 127.0.0.1.

use ch10_uring_net::echo::{round_trip, serve};
use ch10_uring_net::executor::{Runtime, spawn};
use ch10_uring_net::net::{TcpListener, TcpStream, UdpSocket};
use std::cell::RefCell;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::rc::Rc;

fn main() -> ExitCode {
    env_logger::init();
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    // ANCHOR: main
    let loopback: SocketAddr = "127.0.0.1:0".parse()?;
    let mut runtime = Runtime::new()?;
    // The clients run at the same time; their lines are printed in a fixed
    // order once all are done.
    let replies = Rc::new(RefCell::new(Vec::new()));
    let log = Rc::clone(&replies);
    runtime.block_on(async move {
        let listener = TcpListener::bind(loopback)?;
        let addr = listener.local_addr();
        println!("Echo server listening on {addr}; three clients:");
        spawn(async move {
            if let Err(e) = serve(listener, Some(3)).await {
                eprintln!("server: {e}");
            }
        });
        for (i, name) in ["ada", "grace", "barbara"].into_iter().enumerate() {
            let log = Rc::clone(&log);
            spawn(async move {
                let result = async {
                    let stream = TcpStream::connect(addr).await?;
                    let reply = round_trip(
                        &stream,
                        format!("hello from {name}").into_bytes(),
                    )
                    .await?;
                    Ok::<_, std::io::Error>(
                        String::from_utf8_lossy(&reply).into_owned(),
                    )
                };
                let line = match result.await {
                    Ok(reply) => format!("  {name} got back {reply:?}"),
                    Err(e) => format!("  {name} failed: {e}"),
                };
                log.borrow_mut().push((i, line));
            });
        }

        let a = UdpSocket::bind(loopback)?;
        let b = UdpSocket::bind(loopback)?;
        let (sent, _) = a.send_to(b"ping".to_vec(), b.local_addr()).await;
        let (got, buf) = b.recv_from(Vec::with_capacity(16)).await;
        let (n, from) = got?;
        println!(
            "UDP: sent {} bytes; received {:?} from the sender's address: {}",
            sent?,
            String::from_utf8_lossy(&buf[..n]),
            from == a.local_addr()
        );
        Ok::<_, std::io::Error>(())
    })??;
    let mut replies = replies.take();
    replies.sort();
    for (_, line) in replies {
        println!("{line}");
    }
    // ANCHOR_END: main
    Ok(())
}
