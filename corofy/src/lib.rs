//! corofy: rewrites `coroutine fn` items with postfix `.wait` points into
//! ordinary Rust state machines.
//!
//! ```text
//! coroutine fn both(addr: SocketAddr) -> io::Result<String> {
//!     let first: String = HttpGet::new(addr, "/100/a").wait?;
//!     let second = HttpGet::new(addr, "/100/b").wait?;
//!     Ok(first + &second)
//! }
//! ```
//!
//! becomes a function `both(addr) -> Both`, a type `Both` that implements the
//! chosen [`Target`] trait, and an enum of its states. Everything else in the
//! file is copied unchanged. The input is parsed as real Rust with `syn` (the
//! word `coroutine` is the only thing Rust would not accept), so strings,
//! comments, generics and nesting cannot confuse it, and every refusal points at
//! a line and column with a suggestion.
//!
//! The reference, with every error explained, is the book's corofy appendix.
//!
//! [`rewrite`] is the whole pipeline. Each phase is a module of its own:
//! `scan` finds the markers and makes the text parseable, `splice` finds the
//! coroutines and puts the generated code back; for each coroutine, `lower`
//! builds a `model::Machine` of blocks cut at the waits (with `waits`,
//! `scopes` and `types`), `liveness` decides which locals every state keeps,
//! and `render` writes the machine as Rust, expanding the `placeholder`s
//! lowering left where control leaves a block.

mod error;
mod liveness;
mod lower;
mod model;
mod names;
mod placeholder;
mod render;
mod scan;
mod scopes;
mod splice;
mod types;
mod waits;

pub use error::Error;

use std::fmt;

/// The trait the generated state machines implement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The book's own `Future` of Part I: `fn poll(&mut self) -> PollState<Output>`.
    /// `Future` and `PollState` must be in scope in the input file.
    Own,
    /// Part II's `Future` with a waker: `fn poll(&mut self, waker: &Waker) ->
    /// PollState<Output>`. `Future`, `PollState` and `Waker` must be in scope.
    Waker,
    /// `std::future::Future` (chapter 7 on). Awaited futures are pinned in a `Box`.
    Std,
}

impl Target {
    pub const ALL: [(&'static str, Target); 3] = [
        ("own", Target::Own),
        ("waker", Target::Waker),
        ("std", Target::Std),
    ];

    pub fn from_name(name: &str) -> Option<Target> {
        Target::ALL
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| *t)
    }

    pub fn name(self) -> &'static str {
        Target::ALL
            .iter()
            .find(|(_, t)| *t == self)
            .map(|(n, _)| *n)
            .unwrap_or("own")
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Rewrites `source`. `file_name` only appears in the generated header comment.
/// The target comes from `target`, or else from a `#![corofy(target = "...")]`
/// line in the input, or else it is [`Target::Own`].
///
/// Any input gets an answer: the phases run on a thread of their own with a
/// large stack ([`STACK`]), so that deeply nested input that passes
/// `scan`'s nesting limit is not a stack overflow on a small caller's stack,
/// and a panic (a bug in corofy) comes back as an internal error.
pub fn rewrite(
    source: &str,
    file_name: &str,
    target: Option<Target>,
) -> Result<String, Error> {
    // rustc accepts a UTF-8 byte order mark at the start; so does corofy
    // (and leaves it out of the output).
    let source = source.strip_prefix('\u{feff}').unwrap_or(source);
    std::thread::scope(|scope| {
        let thread = std::thread::Builder::new()
            .name("corofy".into())
            .stack_size(STACK)
            .spawn_scoped(scope, || phases(source, file_name, target));
        match thread {
            Ok(thread) => thread.join().unwrap_or_else(|payload| {
                let why = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a panic".into());
                Err(Error::internal(format!(
                    "corofy panicked ({why}); please report this with the input"
                )))
            }),
            // No thread to be had (a strict memory limit): the caller's stack.
            Err(_) => phases(source, file_name, target),
        }
    })
}

/// How deeply nested `source` is, as corofy measures it before parsing (each
/// bracket, and each token of a chain, is a level; see the corofy appendix):
/// an error if it is past [`MAX_NESTING`], which [`rewrite`] refuses, or if
/// it is not Rust's tokens at all.
pub fn nesting(source: &str) -> Result<usize, Error> {
    scan::nesting(source)
}

pub use scan::MAX_NESTING;

/// The stack [`rewrite`]'s phases run on. `tests/limits.rs` rewrites input
/// at the nesting limit with it on a debug build, the hungriest; the default
/// 2 MiB of a test thread overflowed at about a tenth of the limit. Only the
/// part used is ever touched.
pub const STACK: usize = 64 << 20;

fn phases(
    source: &str,
    file_name: &str,
    target: Option<Target>,
) -> Result<String, Error> {
    let scanned = scan::scan(source)?;
    let file = syn::parse_file(&scanned.parse_text).map_err(Error::from_syn)?;
    if file.shebang.is_some() {
        return Err(Error::at(
            proc_macro2::Span::call_site(),
            "the file starts with `#!` but not `#![`",
        )
        .at_start()
        .help("a .coro file is Rust source, not a script: remove the first line"));
    }
    let target = scan::choose_target(&file, target)?;
    let coroutines = splice::find_coroutines(&scanned, &file)?;
    names::check(&file, &coroutines, target)?;
    let known = types::Known::of(coroutines.iter().copied());
    let mut generated = Vec::new();
    for coroutine in coroutines {
        let mut machine = lower::lower(coroutine, target, &known)?;
        let live = liveness::analyse(&mut machine)?;
        let items = render::render(&machine, &live)?;
        placeholder::check_none_left(&items)?;
        generated.push(splice::Generated {
            coroutine,
            items,
            notes: machine.notes,
        });
    }
    let origin = splice::Origin { file_name, target };
    let output = splice::splice(source, &scanned, &file, generated, &origin);
    // corofy never hands out text that is not Rust: if this fails, it is a bug
    // in corofy, reported as such instead of writing a broken file.
    if let Err(e) = syn::parse_file(&output) {
        return Err(Error::internal(format!(
            "the generated code does not parse ({e}); please report this with the input"
        )));
    }
    Ok(output)
}
