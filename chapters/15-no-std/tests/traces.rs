//! Exact traces of spawns, polls, sleeps, interrupts and wakes: the executor
//! polls a task only after something woke it, and sleeps otherwise.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use ch15_no_std::sim::{Irq, Machine, SIM, Step, timer, uart};
use ch15_no_std::{Executor, RunEnd, SpawnError, Task, future_size};
use std::future::poll_fn;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Poll, Waker};

fn lines(trace: &[&str]) -> Vec<String> {
    trace.iter().map(|l| l.to_string()).collect()
}

// ANCHOR: sleep-trace
static SLEEPS: Executor = Executor::new(&SIM);
static SLEEPER: Task<{ future_size(&sleeper) }> = Task::new("sleeper");

async fn sleeper(deadline: u64) {
    timer::sleep_until(deadline).await;
}

#[test]
fn a_sleep_is_one_poll_one_interrupt_one_wake_and_one_more_poll() {
    let machine = Machine::scripted([Step::ToAlarm]).unwrap();
    SLEEPS.spawn(&SLEEPER, sleeper(10)).unwrap();
    assert_eq!(SLEEPS.run(), RunEnd::AllFinished);
    assert_eq!(
        machine.trace(),
        lines(&[
            "spawn sleeper",
            "poll sleeper",
            "sleep",
            "irq timer",
            "wake sleeper",
            "poll sleeper",
            "finish sleeper",
        ])
    );
    assert_eq!(timer::now(), 10, "the alarm was set for the deadline");
}
// ANCHOR_END: sleep-trace

static REAL: Executor = Executor::new(&SIM);
static NAP: Task<{ future_size(&sleeper) }> = Task::new("nap");

#[test]
fn in_real_time_the_cpu_sleeps_through_a_long_wait_once() {
    // 50 ticks of real time, 50 ms: the hardware thread ticks 50 times, the
    // CPU wakes once, for the alarm.
    let machine = Machine::real_time(&[]).unwrap();
    REAL.spawn(&NAP, sleeper(50)).unwrap();
    assert_eq!(REAL.run(), RunEnd::AllFinished);
    assert!(timer::now() >= 50);
    assert_eq!(
        machine.trace(),
        lines(&[
            "spawn nap",
            "poll nap",
            "sleep",
            "irq timer",
            "wake nap",
            "poll nap",
            "finish nap",
        ])
    );
}

static TWO: Executor = Executor::new(&SIM);
static READER: Task<{ future_size(&reader) }> = Task::new("reader");
static NAPPER: Task<{ future_size(&sleeper) }> = Task::new("napper");
static GOT: Mutex<Vec<u8>> = Mutex::new(Vec::new());

async fn reader(n: usize) {
    for _ in 0..n {
        let byte = uart::read_byte().await;
        GOT.lock().unwrap().push(byte);
    }
}

#[test]
fn each_interrupt_wakes_only_the_task_that_waits_for_it() {
    let steps = [Step::Rx(b'a'), Step::ToAlarm, Step::Rx(b'b')];
    let machine = Machine::scripted(steps).unwrap();
    GOT.lock().unwrap().clear();
    TWO.spawn(&READER, reader(2)).unwrap();
    TWO.spawn(&NAPPER, sleeper(50)).unwrap();
    assert_eq!(TWO.run(), RunEnd::AllFinished);
    assert_eq!(*GOT.lock().unwrap(), b"ab");
    assert_eq!(
        machine.trace(),
        lines(&[
            "spawn reader",
            "spawn napper",
            "poll reader",
            "poll napper",
            "sleep",
            "irq uart",
            "wake reader",
            "poll reader",
            "sleep",
            "irq timer",
            "wake napper",
            "poll napper",
            "finish napper",
            "sleep",
            "irq uart",
            "wake reader",
            "poll reader",
            "finish reader",
        ])
    );
}

static STUCK: Executor = Executor::new(&SIM);
static WAITER: Task<{ future_size(&reader) }> = Task::new("waiter");

#[test]
fn when_nothing_will_ever_interrupt_the_run_stops_instead_of_sleeping_forever() {
    let machine = Machine::scripted([Step::Ticks(5)]).unwrap();
    STUCK.spawn(&WAITER, reader(1)).unwrap();
    assert_eq!(STUCK.run(), RunEnd::Stalled { waiting: 1 });
    assert_eq!(machine.steps_left(), 0);
    assert_eq!(
        machine.trace(),
        lines(&["spawn waiter", "poll waiter", "sleep"])
    );
    // The task is still there; a byte lets it finish.
    drop(machine);
    let machine = Machine::scripted([Step::Rx(b'x')]).unwrap();
    assert_eq!(STUCK.run(), RunEnd::AllFinished);
    assert_eq!(machine.interrupts(Irq::Uart), 1);
}

// ANCHOR: pend-trace
static PENDED: Executor = Executor::new(&SIM);
static PARKED: Task<{ future_size(&parked) }> = Task::new("parked");
static PARKED_WAKER: Mutex<Option<Waker>> = Mutex::new(None);

/// Pending until woken once, through a waker it hands out.
async fn parked() {
    let mut polls = 0;
    poll_fn(|cx| {
        polls += 1;
        if polls > 1 {
            return Poll::Ready(());
        }
        *PARKED_WAKER.lock().unwrap() = Some(cx.waker().clone());
        Poll::Pending
    })
    .await;
}

#[test]
fn a_wake_from_another_thread_interrupts_the_sleeping_cpu() {
    let machine = Machine::real_time(&[]).unwrap();
    PENDED.spawn(&PARKED, parked()).unwrap();
    std::thread::scope(|s| {
        s.spawn(|| {
            // Wait until the CPU sleeps, then wake the task from here.
            while !machine.trace().iter().any(|l| l == "sleep") {
                std::thread::yield_now();
            }
            PARKED_WAKER.lock().unwrap().take().unwrap().wake();
        });
        assert_eq!(PENDED.run(), RunEnd::AllFinished);
    });
    assert_eq!(
        machine.trace(),
        lines(&[
            "spawn parked",
            "poll parked",
            "sleep",
            "wake parked",
            "irq pend",
            "poll parked",
            "finish parked",
        ])
    );
}
// ANCHOR_END: pend-trace

static AGAIN: Executor = Executor::new(&SIM);
static ONCE: Task<{ future_size(&once) }> = Task::new("once");
static SPAWNER: Task<{ future_size(&spawner) }> = Task::new("spawner");
static DROPPED: AtomicUsize = AtomicUsize::new(0);
static STALE: Mutex<Option<Waker>> = Mutex::new(None);

struct CountsDrop;
impl Drop for CountsDrop {
    fn drop(&mut self) {
        DROPPED.fetch_add(1, Ordering::SeqCst);
    }
}

async fn once(keep: CountsDrop) {
    poll_fn(|cx| {
        *STALE.lock().unwrap() = Some(cx.waker().clone());
        Poll::Ready(())
    })
    .await;
    drop(keep);
}

async fn spawner() {
    // ONCE is queued to run (spawned after us): busy, and the future is dropped.
    assert_eq!(
        AGAIN.spawn(&ONCE, once(CountsDrop)),
        Err(SpawnError::Busy("once"))
    );
    assert_eq!(DROPPED.load(Ordering::SeqCst), 1);
    assert_eq!(AGAIN.run(), RunEnd::AlreadyRunning);
    timer::sleep(1).await;
    // ONCE finished meanwhile: its storage takes a new future.
    assert!(!ONCE.is_running());
    AGAIN.spawn(&ONCE, once(CountsDrop)).unwrap();
}

#[test]
fn a_finished_task_can_be_spawned_again_and_its_stale_wakers_do_nothing() {
    let machine = Machine::scripted([Step::ToAlarm]).unwrap();
    DROPPED.store(0, Ordering::SeqCst);
    AGAIN.spawn(&SPAWNER, spawner()).unwrap();
    AGAIN.spawn(&ONCE, once(CountsDrop)).unwrap();
    assert_eq!(AGAIN.run(), RunEnd::AllFinished);
    assert_eq!(
        DROPPED.load(Ordering::SeqCst),
        3,
        "three futures made, three dropped"
    );
    // The waker of the finished task: waking it queues nothing.
    STALE.lock().unwrap().take().unwrap().wake();
    assert_eq!(AGAIN.live(), 0);
    assert_eq!(AGAIN.run(), RunEnd::AllFinished);
    assert_eq!(
        machine.trace(),
        lines(&[
            "spawn spawner",
            "spawn once",
            "poll spawner",
            "poll once",
            "finish once",
            "sleep",
            "irq timer",
            "wake spawner",
            "poll spawner",
            "spawn once",
            "finish spawner",
            "poll once",
            "finish once",
        ])
    );
}

static TWICE: Executor = Executor::new(&SIM);
static DOUBLE: Task<{ future_size(&double_wake) }> = Task::new("double");

/// Wakes itself twice, then waits once.
async fn double_wake() {
    let mut polls = 0;
    poll_fn(|cx| {
        polls += 1;
        if polls == 2 {
            return Poll::Ready(());
        }
        cx.waker().wake_by_ref();
        cx.waker().wake_by_ref();
        Poll::Pending
    })
    .await;
}

#[test]
fn waking_a_task_that_is_queued_already_queues_nothing() {
    // On its own thread, which plays the CPU: a task queued twice would
    // make the run queue a cycle, and the run would never end.
    let (done, outcome) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let machine = Machine::scripted([]).unwrap();
        TWICE.spawn(&DOUBLE, double_wake()).unwrap();
        let end = TWICE.run();
        let _ = done.send((end, machine.trace()));
    });
    let Ok((end, trace)) = outcome.recv_timeout(std::time::Duration::from_secs(20))
    else {
        // The spinning CPU thread holds the machine: no other test could
        // run, so end the process with the reason.
        // Written straight to stderr: the test harness's capture of
        // `eprintln!` would die with the process.
        let why = "the run never ended: a task was queued twice, and the queue is a cycle\n";
        let _ = std::io::Write::write_all(&mut std::io::stderr(), why.as_bytes());
        std::process::abort();
    };
    assert_eq!(end, RunEnd::AllFinished);
    assert_eq!(
        trace,
        lines(&[
            "spawn double",
            "poll double",
            "wake double",
            "poll double",
            "finish double",
        ])
    );
}

static LAST: Executor = Executor::new(&SIM);
static OTHER: Executor = Executor::new(&SIM);
static FAREWELL: Task<{ future_size(&farewell) }> = Task::new("farewell");
static LATE: Task<{ future_size(&sleeper) }> = Task::new("late");

/// Wakes itself in the poll in which it finishes: its queue entry outlives
/// its future.
async fn farewell() {
    poll_fn(|cx| {
        cx.waker().wake_by_ref();
        Poll::Ready(())
    })
    .await;
}

#[test]
fn a_task_woken_as_it_finishes_is_not_polled_again_and_can_be_spawned_again() {
    let machine = Machine::scripted([Step::ToAlarm]).unwrap();
    LAST.spawn(&FAREWELL, farewell()).unwrap();
    LAST.spawn(&LATE, sleeper(3)).unwrap();
    assert_eq!(LAST.run(), RunEnd::AllFinished);
    // The run ended as the last task finished, with farewell's stale entry
    // still queued: the storage takes a new future all the same.
    LAST.spawn(&FAREWELL, farewell()).unwrap();
    assert_eq!(LAST.run(), RunEnd::AllFinished);
    LAST.spawn(&FAREWELL, farewell()).unwrap();
    assert_eq!(LAST.run(), RunEnd::AllFinished);
    assert_eq!(
        machine.trace(),
        lines(&[
            "spawn farewell",
            "spawn late",
            "poll farewell",
            "wake farewell",
            "finish farewell",
            "poll late",
            // The stale entry is taken here and skipped: no poll.
            "sleep",
            "irq timer",
            "wake late",
            "poll late",
            "finish late",
            "spawn farewell",
            "poll farewell",
            "wake farewell",
            "finish farewell",
            "spawn farewell",
            "poll farewell",
            "wake farewell",
            "finish farewell",
        ])
    );
    // The stale entry is in LAST's queue: another executor may not take the
    // task until LAST has drained it (or both would poll the new future).
    assert_eq!(
        OTHER.spawn(&FAREWELL, farewell()),
        Err(SpawnError::Busy("farewell"))
    );
    assert_eq!(LAST.run(), RunEnd::AllFinished);
    OTHER.spawn(&FAREWELL, farewell()).unwrap();
    assert_eq!(OTHER.run(), RunEnd::AllFinished);
}

static FULL: Executor = Executor::new(&SIM);
static LATE_READER: Task<{ future_size(&late_reader) }> = Task::new("late reader");
static LATE_READ: Mutex<Vec<u8>> = Mutex::new(Vec::new());

/// Reads nothing until the alarm, then the 16 bytes the buffer kept.
async fn late_reader() {
    timer::sleep_until(5).await;
    for _ in 0..16 {
        let byte = uart::read_byte().await;
        LATE_READ.lock().unwrap().push(byte);
    }
}

#[test]
fn bytes_nobody_reads_fill_the_uart_buffer_and_the_rest_are_counted_as_dropped() {
    let mut steps: Vec<Step> = Step::bytes(b"abcdefghijklmnopqrst").collect();
    steps.push(Step::ToAlarm);
    let machine = Machine::scripted(steps).unwrap();
    FULL.spawn(&LATE_READER, late_reader()).unwrap();
    assert_eq!(FULL.run(), RunEnd::AllFinished);
    assert_eq!(*LATE_READ.lock().unwrap(), b"abcdefghijklmnop");
    assert_eq!(critical_section::with(uart::dropped), 4);
    // The handler emptied the data register each time: no overrun.
    assert_eq!(machine.overruns(), 0);
    assert_eq!(machine.interrupts(Irq::Uart), 20);
}
