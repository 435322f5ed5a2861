//! Chapter 9: tasks on the io_uring executor: timers, owned buffers, and a
//! read whose future is dropped while the kernel still owns its buffer.

use ch09_uring_executor::executor::{Runtime, parked, poll_once, spawn};
use ch09_uring_executor::op::Pipe;
use ch09_uring_executor::time::sleep;
use std::process::ExitCode;
use std::time::Duration;

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
    let mut runtime = Runtime::new()?;
    runtime.block_on(async {
        println!("Two tasks race to print, on timers of 200 and 100 ms:");
        spawn(async {
            sleep(Duration::from_millis(200)).await;
            println!("  the 200 ms task");
        });
        spawn(async {
            sleep(Duration::from_millis(100)).await;
            println!("  the 100 ms task");
        });

        let pipe = Pipe::new()?;
        println!("A buffer goes to the kernel with a write, and comes back:");
        let (written, buf) = pipe.write(b"owned buffers".to_vec()).await?;
        println!(
            "  wrote {} bytes; the buffer is ours again: {:?}",
            written?,
            String::from_utf8_lossy(&buf)
        );
        let (read, buf) = pipe.read(Vec::with_capacity(64)).await?;
        println!(
            "  read {} bytes into a fresh buffer: {:?}",
            read?,
            String::from_utf8_lossy(&buf)
        );

        println!("A read dropped while in flight:");
        let mut read = pipe.read(Vec::with_capacity(64));
        // Poll it once (so it is queued), then give up on it.
        let _ = poll_once(&mut read).await;
        sleep(Duration::from_millis(10)).await; // one turn: now it is in the kernel
        drop(read);
        println!("  operations parked in the reactor: {}", parked());
        let _ = pipe.write(b"late".to_vec()).await?;
        sleep(Duration::from_millis(10)).await;
        println!(
            "  after the data came: {} parked; the buffer was freed then",
            parked()
        );
        Ok::<_, std::io::Error>(())
    })??;
    let stats = runtime.stats();
    println!(
        "io_uring_enter was called {} times; the largest batch submitted {} entries at once.",
        stats.enters, stats.largest_batch
    );
    // ANCHOR_END: main
    Ok(())
}
