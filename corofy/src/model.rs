//! The typed model every phase shares: a coroutine as a [`Machine`] of
//! [`Block`]s and [`Local`]s. Lowering builds it, analysis reads it and
//! decides what each state keeps, rendering turns it into Rust.

use crate::Target;
use proc_macro2::Span;
use std::collections::BTreeSet;
use syn::{Ident, ItemFn, Stmt, Type};

/// A block of the machine: one variant of its state enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct BlockId(pub usize);

/// A local of the coroutine (an argument, a `let`, a pattern binding).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct LocalId(pub usize);

impl BlockId {
    /// The block the machine starts in.
    pub const START: BlockId = BlockId(0);
}

/// A local, as declared.
#[derive(Debug, Clone)]
pub(crate) struct Local {
    pub name: Ident,
    /// Its type, if written (or known from what initialises it).
    pub ty: Option<Type>,
    pub mutable: bool,
    /// Where it borrows another local (`&x`, `ref x`, `x.as_str()`), if it does.
    pub borrow: Option<Span>,
    /// The block whose code declares it.
    pub block: BlockId,
}

/// Why a block exists; it names the block's variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Role {
    Start,
    /// Resumes after a wait: polls the awaited future first.
    Waiting,
    LoopHead,
    AfterLoop,
    /// Where the branches of an `if`/`match`/block meet again.
    Continue,
}

impl Role {
    pub fn prefix(self) -> &'static str {
        match self {
            Role::Start => "Start",
            Role::Waiting => "Waiting",
            Role::LoopHead => "LoopHead",
            Role::AfterLoop => "AfterLoop",
            Role::Continue => "Continue",
        }
    }
}

/// The future a [`Role::Waiting`] block polls.
#[derive(Debug, Clone)]
pub(crate) struct Awaited {
    /// The future's own type, or `None` when it is stored boxed as a trait
    /// object because its type cannot be named (`impl Future`).
    pub future: Option<Type>,
    /// What the wait gives, if known.
    pub output: Option<Type>,
}

/// Straight-line code that runs within one poll, ending in a move to another
/// block, the start of a wait, or a return.
#[derive(Debug)]
pub(crate) struct Block {
    /// The state variant's name (`Start`, `Waiting2`, ...).
    pub name: Ident,
    pub awaited: Option<Awaited>,
    /// The code, with [`crate::placeholder::Placeholder`]s where it leaves.
    pub code: Vec<Stmt>,
    /// The locals its code mentions.
    pub refs: BTreeSet<LocalId>,
    /// The blocks it can move to.
    pub succs: BTreeSet<BlockId>,
    /// Whether anything moves here (an unreachable block has no variant).
    pub reachable: bool,
}

/// One coroutine, lowered.
#[derive(Debug)]
pub(crate) struct Machine {
    /// The coroutine as written (its signature, attributes and visibility
    /// are kept; its body is what the blocks replace).
    pub func: ItemFn,
    pub target: Target,
    /// The coroutine's output type (`()` when it has none).
    pub output: Type,
    pub locals: Vec<Local>,
    pub blocks: Vec<Block>,
    /// The arguments, in order; they are locals of the start block.
    pub args: Vec<LocalId>,
    /// Lines for the comment above the generated code (why a future was
    /// boxed, say).
    pub notes: Vec<String>,
}

impl Machine {
    pub fn local(&self, id: LocalId) -> &Local {
        &self.locals[id.0]
    }

    pub fn block(&self, id: BlockId) -> &Block {
        &self.blocks[id.0]
    }

    pub fn block_mut(&mut self, id: BlockId) -> &mut Block {
        &mut self.blocks[id.0]
    }

    pub fn block_ids(&self) -> impl Iterator<Item = BlockId> + use<> {
        (0..self.blocks.len()).map(BlockId)
    }

    pub fn is_arg(&self, id: LocalId) -> bool {
        self.args.contains(&id)
    }
}
