//! Thousands of reads on idle connections, each under a timeout that fires:
//! every read is cancelled, so nothing stays parked, the memory of the
//! buffers comes back, and once the streams are dropped their sockets close
//! (the peers see the end of the stream) and the count of open descriptors
//! is what it was. Alone in its file (its own process), so that the count of
//! open descriptors is exact; memory is counted by `counting`'s allocator.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use ch14_performance::executor::{parked, runtime_or_skip, spawn};
use ch14_performance::net::TcpListener;
use ch14_performance::task::timeout;
use ch14_performance::time::sleep;
use std::cell::Cell;
use std::io::Read;
use std::rc::Rc;
use std::time::Duration;

mod counting;

use counting::live_bytes;

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

const CONNECTIONS: usize = 2_000;
const BUFFER: usize = 4096;

#[test]
fn idle_reads_that_time_out_are_cancelled_and_give_everything_back() {
    let Some(mut runtime) = runtime_or_skip() else {
        return;
    };
    let fds_before = open_fds();
    let mut peers = Vec::new();
    let (memory_before, memory_after) = runtime
        .block_on(async {
            let listener =
                TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
            let addr = listener.local_addr();
            let mut streams = Vec::new();
            for _ in 0..CONNECTIONS {
                let peer = std::net::TcpStream::connect(addr).unwrap();
                peer.set_read_timeout(Some(Duration::from_secs(10)))
                    .unwrap();
                peers.push(peer);
                streams.push(Rc::new(listener.accept().await.unwrap().0));
            }
            let memory_before = live_bytes();
            let timed_out = Rc::new(Cell::new(0));
            for stream in &streams {
                let (stream, timed_out) =
                    (Rc::clone(stream), Rc::clone(&timed_out));
                spawn(async move {
                    let read = stream.read(Vec::with_capacity(BUFFER));
                    if timeout(Duration::from_millis(20), read).await.is_err() {
                        timed_out.set(timed_out.get() + 1);
                    }
                });
            }
            while timed_out.get() < CONNECTIONS {
                sleep(Duration::from_millis(1)).await;
            }
            for _ in 0..10_000 {
                if parked() == 0 {
                    break;
                }
                sleep(Duration::from_millis(1)).await;
            }
            assert_eq!(parked(), 0, "reads still in the kernel");
            let memory_after = live_bytes();
            drop(streams);
            drop(listener);
            Ok::<_, std::io::Error>((memory_before, memory_after))
        })
        .unwrap()
        .unwrap();
    // What stays is the tables' capacity (slots, tasks, timers), not buffers.
    let kept = memory_after - memory_before;
    let buffers = (CONNECTIONS * BUFFER) as isize;
    println!("kept {kept} bytes; the buffers were {buffers}");
    assert!(
        kept < buffers / 8,
        "{kept} bytes kept; the buffers were {buffers}"
    );
    for (i, mut peer) in peers.into_iter().enumerate() {
        let mut rest = Vec::new();
        let eof = peer.read_to_end(&mut rest);
        assert!(
            eof.is_ok(),
            "peer {i} never saw the end of its stream: {eof:?}"
        );
    }
    assert_eq!(open_fds(), fds_before, "descriptors leaked");
}
