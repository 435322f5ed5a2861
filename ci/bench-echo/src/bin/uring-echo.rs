//! The chapter 10 echo server, for the benchmark: listens on 127.0.0.1 (an
//! ephemeral port, printed on the first line of stdout) until killed.

use ch10_uring_net::echo::serve;
use ch10_uring_net::executor::Runtime;
use ch10_uring_net::net::TcpListener;
use std::io::Write;

fn main() -> std::io::Result<()> {
    let mut runtime = Runtime::with_entries(1024)?;
    runtime.block_on(async {
        let listener =
            TcpListener::bind("127.0.0.1:0".parse().expect("valid address"))?;
        println!("{}", listener.local_addr());
        std::io::stdout().flush()?;
        serve(listener, None).await
    })?
}
