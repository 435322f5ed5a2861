//! Lowering: a `coroutine fn` becomes a [`Machine`] of blocks.
//!
//! The body is cut into blocks at every `.wait` (and at the loops and joins
//! around them). A block is straight Rust code that runs within one poll and
//! ends by moving to another block, by starting a wait, or by returning; where
//! it does, lowering leaves a [`Placeholder`]. This module walks statements;
//! [`wait`] lowers the statement a wait is in, [`control`] the `if`, `match`
//! and loops around waits, and [`jumps`] rewrites `return`, `?`, `break` and
//! `continue` in the code that stays inline.

mod control;
mod jumps;
mod wait;

use crate::model::{Block, BlockId, Local, LocalId, Machine, Role};
use crate::placeholder::{OUT, Placeholder};
use crate::scopes::Scopes;
use crate::types::{Known, has_anonymous_reference, output_type};
use crate::waits::WaitFinder;
use crate::{Error, Target};
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use std::collections::{BTreeMap, BTreeSet};
use syn::spanned::Spanned;
use syn::{Expr, FnArg, ItemFn, Pat, Stmt, Type, parse_quote};

type Result<T> = std::result::Result<T, Error>;

/// Lowers one coroutine.
pub(crate) fn lower(
    func: &ItemFn,
    target: Target,
    known: &Known,
) -> Result<Machine> {
    let mut lowerer = Lowerer::new(func, target, known)?;
    let code =
        lowerer.lower_seq(&func.block.stmts, BlockId::START, Cont::Return)?;
    lowerer.blocks[BlockId::START.0].code = code;
    Ok(lowerer.finish())
}

/// What comes after a sequence of statements.
#[derive(Debug, Clone, Copy)]
enum Cont {
    /// Go on with this block.
    Goto(BlockId),
    /// The end of the coroutine: the value of the last expression is its result.
    Return,
}

/// What `?` means in the coroutine: it bails out with `Err` or with `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TryKind {
    Result,
    Option,
}

/// A loop being lowered, for `break` and `continue` inside it.
#[derive(Debug)]
struct LoopCtx {
    label: Option<String>,
    head: BlockId,
    exit: BlockId,
}

struct Lowerer<'a> {
    func: &'a ItemFn,
    target: Target,
    known: &'a Known,
    output: Type,
    try_kind: TryKind,
    scopes: Scopes,
    blocks: Vec<Block>,
    args: Vec<LocalId>,
    loops: Vec<LoopCtx>,
    /// How many blocks of each role there are, for their names.
    counters: BTreeMap<Role, usize>,
    /// How many `for` loops were desugared, for their iterators' names.
    iterators: usize,
    notes: Vec<String>,
}

impl<'a> Lowerer<'a> {
    fn new(func: &'a ItemFn, target: Target, known: &'a Known) -> Result<Self> {
        let output = output_type(&func.sig.output);
        let try_kind = match &output {
            Type::Path(p)
                if p.path.segments.last().is_some_and(|s| s.ident == "Option") =>
            {
                TryKind::Option
            }
            _ => TryKind::Result,
        };
        let mut lowerer = Lowerer {
            func,
            target,
            known,
            output,
            try_kind,
            scopes: Scopes::new(),
            blocks: Vec::new(),
            args: Vec::new(),
            loops: Vec::new(),
            counters: BTreeMap::new(),
            iterators: 0,
            notes: Vec::new(),
        };
        let start = lowerer.new_block(Role::Start);
        for input in &func.sig.inputs {
            let id = lowerer.declare_arg(input, start)?;
            lowerer.args.push(id);
        }
        Ok(lowerer)
    }

    /// An argument becomes a local of the start block.
    fn declare_arg(&mut self, input: &FnArg, start: BlockId) -> Result<LocalId> {
        let plain_name = || {
            Error::at(input.span(), "corofy needs a plain name for each argument")
                .help("write `name: Type` and destructure inside the body")
        };
        let FnArg::Typed(arg) = input else {
            return Err(Error::at(input.span(), "a coroutine cannot take `self`")
                .help("coroutines are free functions; pass the value as an ordinary argument"));
        };
        let Pat::Ident(pat) = &*arg.pat else {
            return Err(plain_name());
        };
        if pat.by_ref.is_some() || pat.subpat.is_some() {
            return Err(plain_name());
        }
        if has_anonymous_reference(&arg.ty) {
            return Err(Error::at(
                arg.ty.span(),
                "a reference argument needs a named lifetime",
            )
            .help(
                "the state machine stores its arguments, so name the lifetime: \
                     `coroutine fn name<'a>(text: &'a str)`",
            ));
        }
        Ok(self.scopes.declare(Local {
            name: pat.ident.clone(),
            ty: Some((*arg.ty).clone()),
            mutable: pat.mutability.is_some(),
            borrow: None,
            block: start,
        }))
    }

    fn finish(self) -> Machine {
        Machine {
            func: self.func.clone(),
            target: self.target,
            output: self.output,
            locals: self.scopes.into_locals(),
            blocks: self.blocks,
            args: self.args,
            notes: self.notes,
        }
    }

    fn new_block(&mut self, role: Role) -> BlockId {
        let count = self.counters.entry(role).or_insert(0);
        *count += 1;
        let name = match role {
            Role::Start => format_ident!("Start"),
            _ => format_ident!("{}{}", role.prefix(), *count),
        };
        self.blocks.push(Block {
            name,
            awaited: None,
            code: Vec::new(),
            refs: BTreeSet::new(),
            succs: BTreeSet::new(),
            reachable: true,
        });
        BlockId(self.blocks.len() - 1)
    }

    /// Notes every local the tokens mention as used in `block`.
    fn note_refs(&mut self, block: BlockId, tokens: TokenStream) {
        self.scopes.refs_in(tokens, &mut self.blocks[block.0].refs);
    }

    fn goto(&mut self, from: BlockId, to: BlockId) -> Expr {
        self.blocks[from.0].succs.insert(to);
        Placeholder::Goto(to).into_expr()
    }

    fn cont_code(&mut self, block: BlockId, cont: Cont) -> Vec<Stmt> {
        match cont {
            Cont::Goto(to) => {
                vec![Stmt::Expr(self.goto(block, to), Some(Default::default()))]
            }
            Cont::Return => vec![Placeholder::Return(parse_quote!(())).into_stmt()],
        }
    }

    /// Lowers a list of statements in a scope of its own.
    fn lower_seq(
        &mut self,
        stmts: &[Stmt],
        block: BlockId,
        cont: Cont,
    ) -> Result<Vec<Stmt>> {
        self.scopes.push();
        let code = self.lower_stmts(stmts, block, cont);
        self.scopes.pop();
        code
    }

    /// Lowers statements into `block` (in the current scope), then `cont`.
    fn lower_stmts(
        &mut self,
        stmts: &[Stmt],
        block: BlockId,
        cont: Cont,
    ) -> Result<Vec<Stmt>> {
        let mut out = Vec::new();
        for (i, stmt) in stmts.iter().enumerate() {
            let rest = &stmts[i + 1..];
            let waits = WaitFinder::of_stmt(stmt)?;
            if !waits.is_empty() {
                out.extend(
                    self.lower_waiting_stmt(stmt, rest, block, cont, &waits)?,
                );
                return Ok(out);
            }
            match stmt {
                Stmt::Local(local) => {
                    if let Some(init) = &local.init {
                        let (expr, diverge) =
                            (&init.expr, init.diverge.as_ref().map(|d| &d.1));
                        self.note_refs(block, quote!(#expr #diverge));
                    }
                    self.scopes.declare_let(local, block, &self.args);
                }
                other => self.note_refs(block, quote!(#other)),
            }
            let mut stmt = stmt.clone();
            self.rewrite_jumps_in_stmt(&mut stmt, block)?;
            let last = rest.is_empty();
            match (stmt, last, cont) {
                (Stmt::Expr(expr, None), true, Cont::Return) => {
                    self.lower_tail(expr, block, &mut out);
                    return Ok(out);
                }
                (Stmt::Expr(expr, None), true, Cont::Goto(_)) => {
                    let stmt = Stmt::Expr(expr, Some(Default::default()));
                    let diverges = diverges(&stmt);
                    out.push(stmt);
                    if diverges {
                        return Ok(out);
                    }
                }
                // `fut.wait;` leaves nothing to do with the output.
                (Stmt::Expr(Expr::Path(p), Some(_)), _, _)
                    if p.path.is_ident(OUT) => {}
                (stmt, _, _) => {
                    let diverges = diverges(&stmt);
                    out.push(stmt);
                    if diverges {
                        // Nothing after a `return`, `break` or `continue` runs.
                        return Ok(out);
                    }
                }
            }
        }
        out.extend(self.cont_code(block, cont));
        Ok(out)
    }

    /// The coroutine's last expression: its value is the result. A coroutine
    /// returning `()` whose last expression is a `match` or a call runs it,
    /// then returns `()`, rather than passing a unit value around.
    fn lower_tail(&mut self, expr: Expr, block: BlockId, out: &mut Vec<Stmt>) {
        let unit_output =
            matches!(&self.output, Type::Tuple(t) if t.elems.is_empty());
        let unit_expr = matches!(&expr, Expr::Tuple(t) if t.elems.is_empty());
        if unit_output && !unit_expr {
            let stmt = Stmt::Expr(expr, Some(Default::default()));
            let diverges = diverges(&stmt);
            out.push(stmt);
            if !diverges {
                out.extend(self.cont_code(block, Cont::Return));
            }
        } else {
            out.push(Placeholder::Return(expr).into_stmt());
        }
    }

    /// A statement with at least one `.wait` in it, and what follows it.
    fn lower_waiting_stmt(
        &mut self,
        stmt: &Stmt,
        rest: &[Stmt],
        block: BlockId,
        cont: Cont,
        waits: &[Span],
    ) -> Result<Vec<Stmt>> {
        match stmt {
            Stmt::Expr(Expr::If(e), _) if WaitFinder::of_expr(&e.cond)?.is_empty() => {
                self.joined(rest, cont, |this, branch_cont| this.lower_if(e, block, branch_cont))
            }
            Stmt::Expr(Expr::Match(e), _) if WaitFinder::of_expr(&e.expr)?.is_empty() => {
                self.joined(rest, cont, |this, arm_cont| this.lower_match(e, block, arm_cont))
            }
            Stmt::Expr(Expr::Block(e), _) if e.label.is_none() => self.joined(rest, cont, |this, inner| {
                this.lower_seq(&e.block.stmts, block, inner)
            }),
            Stmt::Expr(Expr::Loop(e), _) => {
                let exit = self.new_block(Role::AfterLoop);
                let label = e.label.as_ref().map(|l| l.name.ident.to_string());
                let code = self.lower_loop(label, &e.body.stmts, block, exit)?;
                self.blocks[exit.0].code = self.lower_stmts(rest, exit, cont)?;
                Ok(code)
            }
            Stmt::Expr(Expr::While(e), semi) => {
                let (label, cond, body) = (&e.label, &e.cond, &e.body);
                let desugared: Expr = parse_quote! {
                    #label loop {
                        if #cond #body else { break; }
                    }
                };
                let mut stmts = vec![Stmt::Expr(desugared, *semi)];
                stmts.extend_from_slice(rest);
                self.lower_stmts(&stmts, block, cont)
            }
            Stmt::Expr(Expr::ForLoop(e), semi) if WaitFinder::of_expr(&e.expr)?.is_empty() => {
                let mut stmts = self.desugar_for(e, *semi)?;
                stmts.extend_from_slice(rest);
                self.lower_stmts(&stmts, block, cont)
            }
            Stmt::Expr(Expr::Unsafe(e), _) => Err(Error::at(
                e.unsafe_token.span,
                "`.wait` inside an `unsafe` block",
            )
            .help("keep `unsafe` blocks free of waits: wait first, then use the result in the block")),
            Stmt::Local(local) => {
                if let Some(init) = &local.init {
                    if init.diverge.is_some() {
                        return Err(Error::at(local.span(), "`let ... else` with a `.wait` is not supported")
                            .help("bind the waited value first, then use `let ... else` on it"));
                    }
                    if matches!(&*init.expr, Expr::If(_) | Expr::Match(_) | Expr::Block(_) | Expr::Loop(_)) {
                        return Err(Error::at(
                            waits[0],
                            "`.wait` inside an `if`, `match`, `loop` or block whose value is assigned",
                        )
                        .help(
                            "declare the local first and assign it in each branch: \
                             `let mut x: Type = ...; if c { x = f.wait; } else { x = g; }`",
                        ));
                    }
                }
                self.wait_site(stmt, rest, block, cont, waits)
            }
            Stmt::Item(_) | Stmt::Macro(_) => Err(WaitFinder::of_stmt(stmt)
                .err()
                .unwrap_or_else(|| Error::at(waits[0], "`.wait` in an unsupported place"))),
            Stmt::Expr(..) => self.wait_site(stmt, rest, block, cont, waits),
        }
    }

    /// Lowers a compound statement whose branches meet again: `branches`
    /// gets where they go when they finish (a new block for the statements
    /// after it, or straight to `cont` if there are none). The statements
    /// after it are lowered last, so that names they declare are not visible
    /// in the branches.
    fn joined(
        &mut self,
        rest: &[Stmt],
        cont: Cont,
        branches: impl FnOnce(&mut Self, Cont) -> Result<Vec<Stmt>>,
    ) -> Result<Vec<Stmt>> {
        if rest.is_empty() {
            return branches(self, cont);
        }
        let join = self.new_block(Role::Continue);
        let code = branches(self, Cont::Goto(join))?;
        self.blocks[join.0].code = self.lower_stmts(rest, join, cont)?;
        Ok(code)
    }
}

/// Whether a (rewritten) statement never finishes normally.
fn diverges(stmt: &Stmt) -> bool {
    const DIVERGING_MACROS: [&str; 4] =
        ["panic", "unreachable", "todo", "unimplemented"];
    let diverging_macro = |m: &syn::Macro| {
        m.path
            .get_ident()
            .is_some_and(|n| DIVERGING_MACROS.iter().any(|d| n == d))
    };
    match stmt {
        _ if Placeholder::ends_block(stmt) => true,
        Stmt::Expr(Expr::Macro(m), _) => diverging_macro(&m.mac),
        Stmt::Macro(m) => diverging_macro(&m.mac),
        Stmt::Expr(Expr::Return(_) | Expr::Break(_) | Expr::Continue(_), _) => true,
        _ => false,
    }
}
