//! Chapter 12: cancellation that loses nothing, shown one case at a time.
//! Each case drops an operation after the kernel has done its work (the
//! completion is in, and nobody has taken it), and shows where the result
//! went. `RUST_LOG=debug cargo run` shows the reactor parking, cancelling
//! and salvaging.

use ch14_performance::executor::{
    Runtime, parked, poll_once, spawn, stats, yield_now,
};
use ch14_performance::net::{TcpListener, TcpStream};
use ch14_performance::sync::Event;
use ch14_performance::task::{Either, race};
use ch14_performance::time::sleep;
use std::future::Future;
use std::process::ExitCode;
use std::time::Duration;

fn main() -> ExitCode {
    env_logger::init();
    // The demo panics in a task on purpose: one line on stderr, not a trace.
    std::panic::set_hook(Box::new(|info| eprintln!("(panic hook) {info}")));
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

// ANCHOR: abandon
/// Starts `future`, waits until the kernel has completed its operation,
/// and drops it without taking the result: the case cancel cannot help.
async fn drop_after_completion<F: Future>(
    future: F,
    make_it_complete: impl FnOnce(),
) {
    let mut future = Box::pin(future);
    if poll_once(&mut future).await.is_ready() {
        return;
    }
    yield_now().await; // submitted
    let before = stats().completions;
    make_it_complete();
    while stats().completions == before {
        yield_now().await; // the completion is reaped; nobody takes it
    }
}
// ANCHOR_END: abandon

fn run() -> Result<(), Box<dyn std::error::Error>> {
    // ANCHOR: main
    Runtime::new()?.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0".parse()?)?;
        let addr = listener.local_addr();

        // An accept took a connection, and was dropped.
        let mut client = None;
        drop_after_completion(listener.accept(), || {
            client = std::net::TcpStream::connect(addr).ok();
        })
        .await;
        println!(
            "a dropped accept took a connection: {} kept by the listener",
            listener.salvaged()
        );
        let (stream, peer) = listener.accept().await?;
        println!("the next accept got it, from {peer}");

        // A read received bytes, and was dropped.
        let mut client = client.ok_or("the client could not connect")?;
        drop_after_completion(stream.read(Vec::with_capacity(64)), || {
            use std::io::Write;
            let _ = client.write_all(b"hello");
        })
        .await;
        println!(
            "a dropped read received bytes: {} chunk kept by the stream",
            stream.salvaged()
        );
        let (n, buf) = stream.read(Vec::with_capacity(64)).await;
        println!(
            "the next read got them: {:?}",
            String::from_utf8_lossy(&buf[..n?])
        );

        // A wait took two notifications, and was dropped.
        let event = Event::new()?;
        let notifier = event.notifier();
        drop_after_completion(event.wait(), || {
            let _ = notifier.notify().and_then(|()| notifier.notify());
        })
        .await;
        println!(
            "a dropped wait gave its notifications back: the next wait got {}",
            event.wait().await?
        );

        // A race: the loser is dropped, and cancelled while it waits.
        let idle = TcpStream::connect(addr).await?;
        let _server_side = listener.accept().await?;
        match race(
            idle.read(Vec::with_capacity(64)),
            sleep(Duration::from_millis(20)),
        )
        .await
        {
            Either::Left(_) => println!("the idle read won the race?"),
            Either::Right(()) => println!(
                "the timer won the race; the read was dropped ({} parked)",
                parked()
            ),
        }
        while parked() > 0 {
            yield_now().await;
        }
        println!(
            "its cancel completed: {} parked, {} salvaged",
            parked(),
            idle.salvaged()
        );

        // A task panics; the panic stays in it.
        let sibling = spawn(async {
            sleep(Duration::from_millis(10)).await;
            "the sibling finished"
        });
        let doomed = spawn(async {
            if true {
                panic!("boom");
            }
        });
        match doomed.await {
            Ok(()) => println!("the doomed task returned?"),
            Err(e) => println!("its join handle says: {e}"),
        }
        println!("{}, and the runtime goes on", sibling.await?);
        Ok::<_, Box<dyn std::error::Error>>(())
    })??;
    // ANCHOR_END: main
    Ok(())
}
