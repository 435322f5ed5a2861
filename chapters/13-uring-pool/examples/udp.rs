//! `cargo run --example udp [ADDRESS]`: two tasks exchange datagrams while a
//! third prints. The peer is a UDP echo at ADDRESS, or one started here.

use ch13_uring_pool::executor::{Pool, spawn};
use ch13_uring_pool::net::UdpSocket;
use ch13_uring_pool::time::{sleep, sleep_until};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let given: Option<SocketAddr> =
        std::env::args().nth(1).map(|a| a.parse()).transpose()?;
    Pool::new()?.block_on(async move {
        let loopback: SocketAddr = "127.0.0.1:0".parse().expect("valid");
        let peer = match given {
            Some(addr) => addr,
            None => {
                let echo = UdpSocket::bind(loopback)?;
                let addr = echo.local_addr();
                spawn(async move {
                    for _ in 0..3 {
                        let (got, buf) =
                            echo.recv_from(Vec::with_capacity(64)).await;
                        let Ok((n, from)) = got else { return };
                        let _ = echo.send_to(buf[..n].to_vec(), from).await;
                    }
                });
                addr
            }
        };
        let talker = spawn(async move {
            let socket = UdpSocket::bind(loopback)?;
            for i in 1..=3 {
                let (sent, _) =
                    socket.send_to(format!("ping {i}").into_bytes(), peer).await;
                sent?;
                let (got, buf) = socket.recv_from(Vec::with_capacity(64)).await;
                let (n, _) = got?;
                println!(
                    "talker: sent 'ping {i}', got back {:?}",
                    String::from_utf8_lossy(&buf[..n])
                );
                sleep(Duration::from_millis(50)).await;
            }
            Ok::<_, std::io::Error>(())
        });
        let start = Instant::now();
        spawn(async move {
            // Between the talker's exchanges, which are 50 ms apart.
            for i in 0..3 {
                sleep_until(start + Duration::from_millis(25 + 50 * i)).await;
                println!("printer: still here ({})", i + 1);
            }
        });
        talker.await?
    })??;
    Ok(())
}
