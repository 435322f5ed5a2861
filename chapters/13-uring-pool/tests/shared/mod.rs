//! What the tests share: a value tasks on any worker share, with `Cell`'s
//! `get` and `set`, and a watchdog that turns a hang into a failure.

use std::sync::{Mutex, PoisonError};

/// `Cell` for threads: a `Copy` value behind a lock.
#[derive(Debug, Default)]
pub struct Shared<T: Copy>(Mutex<T>);

#[allow(dead_code)] // each test file uses some of it
impl<T: Copy> Shared<T> {
    pub fn new(value: T) -> Shared<T> {
        Shared(Mutex::new(value))
    }

    pub fn get(&self) -> T {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn set(&self, value: T) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = value;
    }

    /// Changes the value in one step (no other thread in between).
    pub fn update(&self, f: impl FnOnce(T) -> T) {
        let mut value = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        *value = f(*value);
    }
}

/// Runs `f` on a thread and fails the test if it does not finish within a
/// minute: a lost wake-up shows up as a hang, which this turns into a failure.
#[allow(dead_code)] // each test file uses some of it
pub fn within_a_minute(f: impl FnOnce() + Send + 'static) {
    let (tx, rx) = std::sync::mpsc::channel();
    let runner = std::thread::spawn(move || {
        f();
        let _ = tx.send(());
    });
    if rx.recv_timeout(std::time::Duration::from_secs(60)).is_err() {
        panic!("the pool hung: a wake-up was lost");
    }
    if let Err(panic) = runner.join() {
        std::panic::resume_unwind(panic);
    }
}
