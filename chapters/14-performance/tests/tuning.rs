//! Every ring set-up the benchmark measures runs the runtime correctly:
//! `COOP_TASKRUN` or `DEFER_TASKRUN`, the ring fd registered or not, SQPOLL;
//! with both echo modes. And with `TASKRUN_FLAG`, turns that have nothing
//! for the kernel do not enter it.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use ch14_performance::echo::{Mode, Recv, serve_with};
use ch14_performance::executor::{Runtime, poll_once, spawn, stats, yield_now};
use ch14_performance::net::TcpListener;
use ch14_performance::ring::{self, TaskRun, Tuning};
use ch14_performance::task::timeout;
use ch14_performance::time::sleep;
use std::io::{Read, Write};
use std::time::Duration;

fn setups() -> Vec<Tuning> {
    let base = Tuning::default();
    vec![
        Tuning::chapter_12(),
        Tuning {
            task_run: TaskRun::Coop,
            ..base
        },
        Tuning {
            register_ring_fd: false,
            ..base
        },
        base,
        Tuning {
            sqpoll_idle_ms: Some(50),
            register_ring_fd: false,
            ..base
        },
    ]
}

fn echo_round_trips(tuning: &Tuning, mode: Mode) {
    let mut runtime = Runtime::with_tuning(64, tuning).unwrap();
    // Each set-up is the one measured, not a fallback (this kernel has all).
    assert_eq!(
        &runtime.tuning(),
        tuning,
        "the ring did not get this set-up"
    );
    runtime
        .block_on(async {
            let listener =
                TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
            let addr = listener.local_addr();
            let server = spawn(serve_with(listener, Some(4), mode));
            let clients = std::thread::spawn(move || {
                let threads: Vec<_> = (0..4u8)
                    .map(|c| {
                        std::thread::spawn(move || {
                            let mut s = std::net::TcpStream::connect(addr).unwrap();
                            for round in 0..200u8 {
                                let out = [c ^ round; 64];
                                s.write_all(&out).unwrap();
                                let mut back = [0; 64];
                                s.read_exact(&mut back).unwrap();
                                assert_eq!(back, out);
                            }
                        })
                    })
                    .collect();
                threads.into_iter().for_each(|t| t.join().unwrap());
            });
            timeout(Duration::from_secs(30), server)
                .await
                .unwrap()
                .unwrap()
                .unwrap();
            // The echo tasks end when their clients close.
            while !clients.is_finished() {
                sleep(Duration::from_millis(1)).await;
            }
            clients.join().unwrap();
        })
        .unwrap();
}

#[test]
fn every_setup_echoes_with_both_modes() {
    if ring::open_or_skip(8).is_none() {
        return;
    }
    for tuning in setups() {
        let recvs = match tuning.buffers {
            Some(_) => vec![Recv::Linked, Recv::LinkedRingBuffers, Recv::Multishot],
            None => vec![Recv::Linked],
        };
        for recv in recvs {
            for multishot_accept in [false, true] {
                echo_round_trips(
                    &tuning,
                    Mode {
                        multishot_accept,
                        recv,
                    },
                );
            }
        }
    }
}

#[test]
fn with_the_taskrun_flag_turns_with_nothing_for_the_kernel_do_not_enter_it() {
    if ring::open_or_skip(8).is_none() {
        return;
    }
    let mut runtime = Runtime::with_tuning(64, &Tuning::default()).unwrap();
    runtime
        .block_on(async {
            let listener =
                TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
            // An operation in flight that will not complete: an accept,
            // started here and dropped (cancelled) at the end.
            let mut accepting = Box::pin(listener.accept());
            assert!(poll_once(&mut accepting).await.is_pending());
            sleep(Duration::from_millis(1)).await;
            let before = stats().enters;
            // A hundred turns that do not sleep (the task is always ready):
            // chapter 12 entered the kernel in each, because an operation
            // was in flight; with the flag, only when the kernel says
            // there is work for this thread.
            for _ in 0..100 {
                yield_now().await;
            }
            let enters = stats().enters - before;
            drop(accepting);
            assert!(
                enters <= 5,
                "{enters} enters in 100 turns with nothing to do"
            );
        })
        .unwrap();
}
