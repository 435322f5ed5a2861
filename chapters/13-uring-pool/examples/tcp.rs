//! `cargo run --example tcp [ADDRESS]`: an echo client. It talks to the echo
//! server at ADDRESS (try `cargo run --example tcp_serv 127.0.0.1:7000` in
//! another terminal), or to one it starts itself on 127.0.0.1.

use ch13_uring_pool::echo::{round_trip, serve};
use ch13_uring_pool::executor::{Pool, spawn};
use ch13_uring_pool::net::{TcpListener, TcpStream};
use std::net::SocketAddr;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let given: Option<SocketAddr> =
        std::env::args().nth(1).map(|a| a.parse()).transpose()?;
    Pool::new()?.block_on(async move {
        let addr = match given {
            Some(addr) => addr,
            None => {
                let listener =
                    TcpListener::bind("127.0.0.1:0".parse().expect("valid"))?;
                let addr = listener.local_addr();
                spawn(serve(listener, Some(1)));
                addr
            }
        };
        let stream = TcpStream::connect(addr).await?;
        println!("connected to an echo server at {addr}");
        for line in ["hello", "io_uring", "goodbye"] {
            let reply = round_trip(&stream, line.as_bytes().to_vec()).await?;
            println!(
                "sent {line:?}, got back {:?}",
                String::from_utf8_lossy(&reply)
            );
        }
        Ok::<_, std::io::Error>(())
    })??;
    Ok(())
}
