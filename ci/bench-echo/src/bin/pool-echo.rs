//! The chapter 13 pool's echo server, for the benchmark: two workers and the
//! ring thread; `--plain` opens the ring without `SINGLE_ISSUER` and
//! `COOP_TASKRUN`. Listens on 127.0.0.1 (an ephemeral port, printed on the
//! first line of stdout) until killed.

use ch13_uring_pool::echo::serve;
use ch13_uring_pool::executor::Pool;
use ch13_uring_pool::net::TcpListener;
use std::io::Write;

fn main() -> std::io::Result<()> {
    let mut builder = Pool::builder().workers(2).entries(1024);
    if std::env::args().any(|a| a == "--plain") {
        builder = builder.plain_ring();
    }
    builder.build()?.block_on(async {
        let listener =
            TcpListener::bind("127.0.0.1:0".parse().expect("valid address"))?;
        println!("{}", listener.local_addr());
        std::io::stdout().flush()?;
        serve(listener, None).await
    })?
}
