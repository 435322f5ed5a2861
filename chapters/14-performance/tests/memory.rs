//! Memory that must not grow with use: `write_all` copies nothing however
//! short the writes, and timers that finished or were cancelled leave the
//! reactor at once.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

mod counting;

use ch14_performance::executor::{
    runtime_or_skip, spawn, stats, timers, yield_now,
};
use ch14_performance::net::TcpListener;
use ch14_performance::task::timeout;
use ch14_performance::time::sleep;
use counting::{allocated_bytes, live_bytes};
use std::io::Read;
use std::time::Duration;

#[test]
fn write_all_to_a_slow_reader_copies_nothing() {
    let Some(mut runtime) = runtime_or_skip() else {
        return;
    };
    const LEN: usize = 64 << 20;
    runtime
        .block_on(async {
            let listener =
                TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
            let addr = listener.local_addr();
            // A reader that starts only once a write has come back short (it
            // must: the socket buffers hold far less than the data), then
            // takes small bites. (A reader that keeps up from the start lets
            // one write on loopback send everything, and proves nothing.)
            let (short_write, first_short_write) = std::sync::mpsc::channel();
            let reader = std::thread::spawn(move || {
                let mut stream = std::net::TcpStream::connect(addr).unwrap();
                let _ = first_short_write.recv_timeout(Duration::from_secs(10));
                let (mut total, mut bite) = (0, vec![0; 16 << 10]);
                loop {
                    match stream.read(&mut bite).unwrap() {
                        0 => return total,
                        n => total += n,
                    }
                }
            });
            let (stream, _) = listener.accept().await.unwrap();
            let data = vec![3u8; LEN];
            let (writes_before, allocated_before) =
                (stats().completions, allocated_bytes());
            spawn(async move {
                while stats().completions == writes_before {
                    sleep(Duration::from_millis(1)).await;
                }
                short_write.send(()).unwrap();
            });
            let (written, back) = stream.write_all(data).await;
            written.unwrap();
            let allocated = allocated_bytes() - allocated_before;
            let writes = stats().completions - writes_before;
            assert_eq!(back.len(), LEN, "the buffer comes back whole");
            assert!(
                writes > 1,
                "no short write happened; the test proves nothing"
            );
            assert!(
                allocated < 1 << 20,
                "{allocated} bytes allocated for {writes} writes of {LEN} bytes"
            );
            // An empty buffer is written at once, as with std: no operation.
            let before = stats().completions;
            let (empty, _) = stream.write_all(Vec::new()).await;
            empty.unwrap();
            assert_eq!(stats().completions, before);
            drop(stream);
            assert_eq!(reader.join().unwrap(), LEN);
        })
        .unwrap();
}

#[test]
fn a_million_finished_timeouts_leave_no_timer_and_no_memory_behind() {
    let Some(mut runtime) = runtime_or_skip() else {
        return;
    };
    runtime
        .block_on(async {
            let round = || async {
                for _ in 0..500_000 {
                    // Pending once (so its timer is registered), then done.
                    timeout(Duration::from_secs(3600), yield_now())
                        .await
                        .unwrap();
                }
            };
            round().await; // the timer map reaches its working size
            let before = live_bytes();
            round().await;
            assert_eq!(timers(), 0, "finished timeouts left timers behind");
            let grown = live_bytes() - before;
            assert!(grown < 4096, "{grown} bytes more after 500,000 timeouts");
        })
        .unwrap();
}
