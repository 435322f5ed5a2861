//! The exercise solutions do what the exercises ask.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use ch06_executor::executor::{block_on, spawn};
use ch06_executor::exercises::{spawn_with_handle, yield_now};
use ch06_executor::future::{Future, PollState, Waker};
use ch06_executor::requests::fetch;
use delayserver::DelayServer;
use std::cell::RefCell;
use std::rc::Rc;

/// Awaits the handle of a task spawned on its first poll.
struct AwaitHandle<T>(
    Option<ch06_executor::exercises::Handle<T>>,
    Box<dyn FnMut() -> ch06_executor::exercises::Handle<T>>,
);

impl<T> Future for AwaitHandle<T> {
    type Output = T;
    fn poll(&mut self, waker: &Waker) -> PollState<T> {
        let handle = self.0.get_or_insert_with(&mut self.1);
        handle.poll(waker)
    }
}

#[test]
fn a_handle_yields_the_spawned_tasks_output() {
    let server = DelayServer::start().unwrap();
    let addr = server.addr();
    let main = AwaitHandle(
        None,
        Box::new(move || spawn_with_handle(fetch(addr, "/30/from-a-task".into()))),
    );
    let finished = block_on(main);
    assert_eq!(finished.output.unwrap(), "from-a-task");
    assert_eq!(finished.tasks, 2);
}

/// Logs `name` and yields, `rounds` times.
struct Chatty {
    name: &'static str,
    rounds: u32,
    log: Rc<RefCell<Vec<String>>>,
    yielding: Option<ch06_executor::exercises::YieldNow>,
}

impl Future for Chatty {
    type Output = ();
    fn poll(&mut self, waker: &Waker) -> PollState<()> {
        loop {
            if let Some(y) = self.yielding.as_mut() {
                if let PollState::NotReady = y.poll(waker) {
                    return PollState::NotReady;
                }
                self.yielding = None;
            }
            if self.rounds == 0 {
                return PollState::Ready(());
            }
            self.rounds -= 1;
            self.log
                .borrow_mut()
                .push(format!("{}{}", self.name, 3 - self.rounds));
            self.yielding = Some(yield_now());
        }
    }
}

#[test]
fn yield_now_lets_the_other_tasks_run() {
    let log = Rc::new(RefCell::new(Vec::new()));
    let (a, b) = (Rc::clone(&log), Rc::clone(&log));
    block_on(Spawner(Some(Box::new(move || {
        spawn(Chatty {
            name: "a",
            rounds: 3,
            log: a,
            yielding: None,
        });
        spawn(Chatty {
            name: "b",
            rounds: 3,
            log: b,
            yielding: None,
        });
    }))));
    assert_eq!(*log.borrow(), ["a1", "b1", "a2", "b2", "a3", "b3"]);
}

struct Spawner(Option<Box<dyn FnOnce()>>);

impl Future for Spawner {
    type Output = ();
    fn poll(&mut self, _: &Waker) -> PollState<()> {
        (self.0.take().unwrap())();
        PollState::Ready(())
    }
}

#[test]
fn spawn_is_usable_from_a_spawned_task_through_the_handle_too() {
    let count = Rc::new(RefCell::new(0));
    let c = Rc::clone(&count);
    block_on(Spawner(Some(Box::new(move || {
        let c2 = Rc::clone(&c);
        spawn(Spawner(Some(Box::new(move || {
            *c2.borrow_mut() += 1;
            spawn(Spawner(Some(Box::new(move || *c.borrow_mut() += 1))));
        }))));
    }))));
    assert_eq!(*count.borrow(), 2);
}
