//! Solutions to the chapter's exercises. Each is tested in `tests/exercises.rs`.

pub mod deadline;
pub mod join;
pub mod sequence;
