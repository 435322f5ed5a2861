//! Chapter 6's executor claims, now with `async` blocks as tasks: many tasks
//! complete with the right answers, a task spawned by a task runs, each
//! executor's tasks stay on its thread, and a task is polled only when its own
//! waker is called.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use ch07_std_future::executor::{Executor, block_on, spawn};
use ch07_std_future::requests::{fetch, two_requests};
use delayserver::DelayServer;
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::thread;

/// Wakes itself `n` times, then is ready: a task whose polls are exact.
struct SelfWaking(u32);

impl Future for SelfWaking {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 == 0 {
            return Poll::Ready(());
        }
        self.0 -= 1;
        cx.waker().wake_by_ref(); // during its own poll
        Poll::Pending
    }
}

#[test]
fn many_tasks_each_making_several_requests_all_get_their_answers() {
    let server = DelayServer::start().unwrap();
    let addr = server.addr();
    let answers = Rc::new(RefCell::new(Vec::new()));
    let log = Rc::clone(&answers);
    block_on(async move {
        for task in 0..20 {
            let log = Rc::clone(&log);
            spawn(async move {
                for request in 0..5 {
                    let path = format!(
                        "/{}/t{task}r{request}",
                        (task * 7 + request * 3) % 40
                    );
                    let body = fetch(addr, path).await.unwrap();
                    log.borrow_mut().push((task, request, body));
                }
            });
        }
    });
    let answers = answers.take();
    assert_eq!(answers.len(), 100);
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
    block_on(async move {
        spawn(async move {
            let outer = fetch(addr, "/10/outer".into()).await.unwrap();
            log.borrow_mut().push(outer);
            spawn(async move {
                let bodies = two_requests(addr, "/0/a".into(), "/0/b".into()).await;
                log.borrow_mut().extend(bodies.unwrap());
            });
        });
    });
    assert_eq!(*seen.borrow(), ["outer", "a", "b"]);
}

#[test]
fn each_executors_tasks_stay_on_its_thread() {
    let server = DelayServer::start().unwrap();
    let addr = server.addr();
    let workers: Vec<_> = (0..4)
        .map(|_| {
            thread::spawn(move || {
                let seen = Arc::new(Mutex::new(Vec::new()));
                let log = Arc::clone(&seen);
                Executor::new().block_on(async move {
                    for i in 0..10 {
                        let log = Arc::clone(&log);
                        spawn(async move {
                            let _ = fetch(addr, format!("/{}/x", i * 5)).await;
                            log.lock().unwrap().push(thread::current().id());
                        });
                    }
                });
                let seen = seen.lock().unwrap().clone();
                (thread::current().id(), seen)
            })
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
    let finished = block_on(async {
        for i in 0..50 {
            spawn(SelfWaking(i));
        }
    });
    let expected: u64 = (0..50).map(|i| i + 1).sum::<u64>() + 1; // + main
    assert_eq!((finished.polls, finished.tasks), (expected, 51));
}

#[test]
#[should_panic(expected = "spawn() called outside an executor")]
fn spawn_outside_an_executor_says_so() {
    spawn(SelfWaking(0));
}
