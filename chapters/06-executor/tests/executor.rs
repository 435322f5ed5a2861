//! The executor's claims: many tasks complete with the right answers, a task
//! spawned by a task runs, each executor's tasks stay on its thread, and a
//! task is polled only when its own waker is called.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use ch06_executor::executor::{Executor, block_on, spawn};
use ch06_executor::future::{Future, PollState, Waker};
use ch06_executor::requests::{fetch, two_requests};
use delayserver::DelayServer;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::thread;

/// Runs `future`, then hands its output to `then`.
struct Then<F, G>(F, Option<G>);

impl<F: Future, G: FnOnce(F::Output)> Future for Then<F, G> {
    type Output = ();
    fn poll(&mut self, waker: &Waker) -> PollState<()> {
        let PollState::Ready(value) = self.0.poll(waker) else {
            return PollState::NotReady;
        };
        (self.1.take().expect("polled after Ready"))(value);
        PollState::Ready(())
    }
}

fn then<F: Future, G: FnOnce(F::Output)>(future: F, g: G) -> Then<F, G> {
    Then(future, Some(g))
}

/// A main future that runs a closure once and is done.
struct Start<F>(Option<F>);

impl<F: FnOnce()> Future for Start<F> {
    type Output = ();
    fn poll(&mut self, _: &Waker) -> PollState<()> {
        (self.0.take().expect("polled after Ready"))();
        PollState::Ready(())
    }
}

fn start<F: FnOnce()>(f: F) -> Start<F> {
    Start(Some(f))
}

/// Wakes itself `n` times, then is ready: a task whose polls are exact.
struct SelfWaking(u32);

impl Future for SelfWaking {
    type Output = ();
    fn poll(&mut self, waker: &Waker) -> PollState<()> {
        if self.0 == 0 {
            return PollState::Ready(());
        }
        self.0 -= 1;
        waker.wake(); // during its own poll
        PollState::NotReady
    }
}

#[test]
fn many_tasks_each_making_several_requests_all_get_their_answers() {
    let server = DelayServer::start().unwrap();
    let addr = server.addr();
    let answers = Rc::new(RefCell::new(Vec::new()));
    let log = Rc::clone(&answers);
    block_on(start(move || {
        for task in 0..20 {
            for request in 0..5 {
                let log = Rc::clone(&log);
                let path =
                    format!("/{}/t{task}r{request}", (task * 7 + request * 3) % 40);
                spawn(then(fetch(addr, path), move |body| {
                    log.borrow_mut().push((task, request, body.unwrap()));
                }));
            }
        }
    }));
    let mut answers = answers.take();
    assert_eq!(answers.len(), 100);
    answers.sort();
    for (task, request, body) in answers {
        assert_eq!(body, format!("t{task}r{request}"));
    }
}

#[test]
fn a_task_spawned_by_a_task_runs() {
    let server = DelayServer::start().unwrap();
    let addr = server.addr();
    let seen = Rc::new(RefCell::new(Vec::new()));
    let log = Rc::clone(&seen);
    block_on(start(move || {
        let inner_log = Rc::clone(&log);
        spawn(then(fetch(addr, "/10/outer".into()), move |body| {
            log.borrow_mut().push(body.unwrap());
            // Spawned from inside a running task, after a wait.
            spawn(then(
                two_requests(addr, "/0/a".into(), "/0/b".into()),
                move |bodies| {
                    inner_log.borrow_mut().extend(bodies.unwrap());
                },
            ));
        }));
    }));
    assert_eq!(*seen.borrow(), ["outer", "a", "b"]);
}

#[test]
fn each_executors_tasks_stay_on_its_thread() {
    let server = DelayServer::start().unwrap();
    let addr = server.addr();
    let workers: Vec<_> = (0..4)
        .map(|n| {
            thread::Builder::new()
                .name(format!("exec-{n}"))
                .spawn(move || {
                    let seen = Arc::new(Mutex::new(Vec::new()));
                    let log = Arc::clone(&seen);
                    Executor::new().block_on(start(move || {
                        for i in 0..10 {
                            let log = Arc::clone(&log);
                            spawn(then(
                                fetch(addr, format!("/{}/x", i * 5)),
                                move |_| {
                                    log.lock()
                                        .unwrap()
                                        .push(thread::current().id());
                                },
                            ));
                        }
                    }));
                    let seen = seen.lock().unwrap().clone();
                    (thread::current().id(), seen)
                })
                .unwrap()
        })
        .collect();
    for worker in workers {
        let (id, seen) = worker.join().unwrap();
        assert_eq!(seen.len(), 10);
        assert!(
            seen.iter().all(|&t| t == id),
            "a task ran on another thread"
        );
    }
}

#[test]
fn a_task_is_polled_only_when_its_own_waker_is_called() {
    // Task i wakes itself i times: it needs exactly i + 1 polls. An executor
    // that polled every task on every wake-up would need far more.
    let finished = block_on(start(|| {
        for i in 0..50 {
            spawn(SelfWaking(i));
        }
    }));
    let expected: u64 = (0..50).map(|i| i + 1).sum::<u64>() + 1; // + main
    assert_eq!((finished.polls, finished.tasks), (expected, 51));
}

#[test]
fn requests_are_polled_a_handful_of_times_each_however_many_there_are() {
    let server = DelayServer::start().unwrap();
    let addr = server.addr();
    let finished = block_on(start(move || {
        for i in 0..50 {
            spawn(then(fetch(addr, format!("/{}/r", (i % 10) * 10)), |_| {}));
        }
    }));
    // Connected, then readable: a few polls per request, not one per event of
    // any of the fifty.
    assert!(finished.polls <= 50 * 6 + 1, "{} polls", finished.polls);
}

#[test]
#[should_panic(expected = "spawn() called outside an executor")]
fn spawn_outside_an_executor_says_so() {
    spawn(SelfWaking(0));
}
