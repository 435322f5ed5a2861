//! The reactor's rules: an operation's entry is built exactly once, however
//! often its future is polled; everything queued in a turn goes to the kernel
//! in one `io_uring_enter`; and results come back with their buffers.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use ch14_performance::executor::{
    poll_once, runtime_or_skip, spawn, stats, yield_now,
};
use ch14_performance::op::{Op, Operation, Pipe, check, nop};
use io_uring::{opcode, squeue};
use std::cell::Cell;
use std::rc::Rc;

/// A NOP that counts how many times its entry is built.
struct CountedNop(Rc<Cell<u32>>);

impl Operation for CountedNop {
    type Output = ();
    fn entry(&mut self) -> squeue::Entry {
        self.0.set(self.0.get() + 1);
        opcode::Nop::new().build()
    }
    fn complete(self, result: i32) {
        check(result).unwrap();
    }
}

#[test]
fn the_submission_closure_runs_exactly_once() {
    let Some(mut runtime) = runtime_or_skip() else {
        return;
    };
    let built = Rc::new(Cell::new(0));
    let b = Rc::clone(&built);
    runtime
        .block_on(async move {
            let mut op = Op::new(CountedNop(Rc::clone(&b)));
            // Polled three times per turn while queued and in flight, until
            // it completes.
            let mut polls = 0;
            'done: loop {
                for _ in 0..3 {
                    polls += 1;
                    if poll_once(&mut op).await.is_ready() {
                        break 'done;
                    }
                }
                yield_now().await;
            }
            assert!(polls >= 4, "{polls} polls");
        })
        .unwrap();
    assert_eq!(built.get(), 1);
}

#[test]
fn everything_queued_in_a_turn_goes_in_one_enter() {
    let Some(mut runtime) = runtime_or_skip() else {
        return;
    };
    runtime
        .block_on(async {
            for _ in 0..100 {
                spawn(async { nop().await.unwrap().unwrap() });
            }
        })
        .unwrap();
    // The hundred tasks ran in one pass and queued a NOP each; one
    // io_uring_enter took all of them.
    assert!(
        runtime.stats().largest_batch >= 100,
        "{:?}",
        runtime.stats()
    );
}

#[test]
fn buffers_come_back_with_their_results() {
    let Some(mut runtime) = runtime_or_skip() else {
        return;
    };
    runtime
        .block_on(async {
            let pipe = Pipe::new().unwrap();
            let (n, buf) = pipe.write(b"round trip".to_vec()).await.unwrap();
            assert_eq!((n.unwrap(), buf.as_slice()), (10, &b"round trip"[..]));
            let (n, buf) = pipe.read(Vec::with_capacity(4)).await.unwrap();
            assert_eq!((n.unwrap(), buf.as_slice()), (4, &b"roun"[..]));
            // An error comes back as an error, with the buffer.
            let wrong_way = Pipe {
                reader: Rc::clone(&pipe.writer),
                writer: Rc::clone(&pipe.reader),
            };
            let (n, buf) = wrong_way.read(Vec::with_capacity(8)).await.unwrap();
            assert_eq!(n.unwrap_err().raw_os_error(), Some(libc::EBADF));
            assert_eq!(buf.capacity(), 8);
            assert!(stats().completions >= 3);
        })
        .unwrap();
}
