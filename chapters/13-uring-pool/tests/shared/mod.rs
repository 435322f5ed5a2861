//! A value tasks on any worker share, with `Cell`'s `get` and `set`.

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
