//! `cargo run --example tcp_serv [ADDRESS]`: an echo server. With ADDRESS it
//! listens there and serves any number of clients until Ctrl-C; without, it
//! listens on 127.0.0.1 (a port the system picks), serves one client it starts
//! itself, and exits.

use ch13_uring_pool::echo::{round_trip, serve};
use ch13_uring_pool::executor::{Pool, spawn};
use ch13_uring_pool::net::{TcpListener, TcpStream};
use std::net::SocketAddr;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let given: Option<SocketAddr> =
        std::env::args().nth(1).map(|a| a.parse()).transpose()?;
    Pool::new()?.block_on(async move {
        let listener = TcpListener::bind(
            given.unwrap_or("127.0.0.1:0".parse().expect("valid")),
        )?;
        let addr = listener.local_addr();
        if given.is_some() {
            println!("echo server on {addr}; Ctrl-C stops it");
            return serve(listener, None).await;
        }
        println!("echo server on {addr}, serving one client of its own");
        let server = spawn(serve(listener, Some(1)));
        let stream = TcpStream::connect(addr).await?;
        let reply = round_trip(&stream, b"echo me".to_vec()).await?;
        println!("the client got back {:?}", String::from_utf8_lossy(&reply));
        drop(stream);
        server.await?
    })??;
    Ok(())
}
