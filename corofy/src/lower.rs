//! Lowering: each `coroutine fn` becomes a state machine.
//!
//! The body is cut into blocks at every `.wait` (and at the loops and joins
//! around them). A block is straight Rust code that runs within one poll and
//! ends by moving to another block, by starting a wait, or by returning. Every
//! block is a variant of the state enum, carrying exactly the locals that are
//! still needed from there on (found by a liveness analysis); those are the
//! locals that "live across a wait", and corofy needs to know their types.

use crate::scan::Scanned;
use crate::{Error, Target};
use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{format_ident, quote};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::visit_mut::VisitMut;
use syn::{
    Expr, ExprMacro, FnArg, Ident, Item, ItemFn, Pat, ReturnType, Stmt, Type,
    parse_quote,
};

type Result<T> = std::result::Result<T, Error>;

const GOTO: &str = "__corofy_goto";
const WAIT: &str = "__corofy_wait";
const RETURN: &str = "__corofy_return";
/// The local a wait's result is bound to in the block after it.
const OUT: &str = "__out";
/// The payload field that holds the future being waited on.
const AWAITED: &str = "__awaited";

/// What corofy knows about a coroutine of the file, for the others to wait on it.
#[derive(Debug, Clone)]
struct CoroutineInfo {
    type_name: Ident,
    output: Type,
    generic: bool,
}

pub(crate) fn rewrite_file(
    source: &str,
    scanned: &Scanned,
    file: &syn::File,
    target: Target,
    file_name: &str,
) -> Result<String> {
    let is_marker = |f: &ItemFn| {
        f.sig
            .asyncness
            .is_some_and(|a| scanned.markers.contains(&a.span.start()))
    };
    let coroutines: Vec<&ItemFn> = file
        .items
        .iter()
        .filter_map(|item| match item {
            Item::Fn(f) if is_marker(f) => Some(f),
            _ => None,
        })
        .collect();
    if let Some(stray) = scanned.markers.iter().find(|m| {
        !coroutines
            .iter()
            .any(|f| f.sig.asyncness.is_some_and(|a| a.span.start() == **m))
    }) {
        let span = stray_span(file, *stray).unwrap_or_else(Span::call_site);
        return Err(Error::at(
            span,
            "a `coroutine fn` must be a free function at the top level of the file",
        )
        .help("move it out of the `impl`, `mod` or function it is in"));
    }
    let mut known = HashMap::new();
    for f in &coroutines {
        known.insert(
            f.sig.ident.to_string(),
            CoroutineInfo {
                type_name: type_name(&f.sig.ident),
                output: match &f.sig.output {
                    ReturnType::Default => parse_quote!(()),
                    ReturnType::Type(_, ty) => (**ty).clone(),
                },
                generic: !f.sig.generics.params.is_empty(),
            },
        );
    }
    for item in &file.items {
        if let Item::Fn(f) = item
            && is_marker(f)
        {
            continue;
        }
        let mut finder = WaitFinder::default();
        finder.visit_item(item);
        if let Some(span) = finder.waits.first() {
            return Err(Error::at(*span, "`.wait` outside a coroutine").help(
                "only a `coroutine fn` can wait; make this function a `coroutine fn`, \
                 or, if `wait` is a field, rename it",
            ));
        }
    }

    // The output is the input with every coroutine replaced by its machine and
    // the corofy attribute removed; everything else stays byte for byte.
    let mut replacements: Vec<(usize, usize, String)> = Vec::new();
    for attr in &file.attrs {
        if attr.path().is_ident("corofy") {
            let start = scanned.offset(source, attr.span().start());
            let mut end = scanned.offset(source, attr.span().end());
            if source[end..].starts_with('\n') {
                end += 1;
            }
            replacements.push((start, end, String::new()));
        }
    }
    for f in &coroutines {
        let span = f.span();
        let (start, end) = (
            scanned.offset(source, span.start()),
            scanned.offset(source, span.end()),
        );
        let original = &source[start..end];
        let generated = Lowerer::new(f, target, &known)?.run()?;
        let mut text = String::new();
        text.push_str(
            "// corofy turned this coroutine into the state machine below:\n//\n",
        );
        for line in original.lines() {
            text.push_str(format!("// {line}").trim_end());
            text.push('\n');
        }
        let items: Vec<String> = generated
            .items
            .into_iter()
            .map(|item| {
                let file = syn::File {
                    shebang: None,
                    attrs: Vec::new(),
                    items: vec![item],
                };
                prettyplease::unparse(&file).trim_end().to_string()
            })
            .collect();
        text.push_str(&items.join("\n\n"));
        replacements.push((start, end, text));
    }
    replacements.sort_by_key(|r| r.0);
    let mut out = format!(
        "// Generated by corofy from {file_name} (target: {target}).\n\
         // Do not edit: change {file_name} and run corofy again.\n\n"
    );
    let mut at = 0;
    for (start, end, text) in replacements {
        out.push_str(&source[at..start]);
        out.push_str(&text);
        at = end;
    }
    out.push_str(&source[at..]);
    let trimmed = out.trim_end().len();
    out.truncate(trimmed);
    out.push('\n');
    Ok(out)
}

/// Where a misplaced marker is, for the error message.
fn stray_span(file: &syn::File, at: proc_macro2::LineColumn) -> Option<Span> {
    struct Find(proc_macro2::LineColumn, Option<Span>);
    impl<'a> Visit<'a> for Find {
        fn visit_signature(&mut self, sig: &'a syn::Signature) {
            if let Some(a) = sig.asyncness
                && a.span.start() == self.0
            {
                self.1 = Some(a.span);
            }
        }
    }
    let mut find = Find(at, None);
    find.visit_file(file);
    find.1
}

fn type_name(ident: &Ident) -> Ident {
    let mut name = String::new();
    for part in ident.to_string().split('_').filter(|p| !p.is_empty()) {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            name.extend(first.to_uppercase());
            name.push_str(chars.as_str());
        }
    }
    format_ident!("{}", name, span = ident.span())
}

fn is_wait(expr: &Expr) -> bool {
    matches!(expr, Expr::Field(f) if matches!(&f.member, syn::Member::Named(m) if m == "wait"))
}

/// Collects the `.wait` points in a piece of syntax and notes the ones in
/// places corofy cannot lower (closures, async blocks, nested functions and
/// macro invocations).
#[derive(Default)]
struct WaitFinder {
    waits: Vec<Span>,
    misplaced: Option<Error>,
    depth_closure: usize,
}

impl WaitFinder {
    fn of_expr(expr: &Expr) -> Result<Vec<Span>> {
        let mut f = WaitFinder::default();
        f.visit_expr(expr);
        f.result()
    }
    fn of_stmt(stmt: &Stmt) -> Result<Vec<Span>> {
        let mut f = WaitFinder::default();
        f.visit_stmt(stmt);
        f.result()
    }
    fn result(self) -> Result<Vec<Span>> {
        match self.misplaced {
            Some(e) => Err(e),
            None => Ok(self.waits),
        }
    }
    fn misplaced(&mut self, span: Span, what: &str, help: &str) {
        if self.misplaced.is_none() {
            self.misplaced =
                Some(Error::at(span, format!("`.wait` inside {what}")).help(help));
        }
    }
}

impl<'a> Visit<'a> for WaitFinder {
    fn visit_expr(&mut self, expr: &'a Expr) {
        if let Expr::Field(f) = expr
            && is_wait(expr)
        {
            let span = f.member.span();
            if self.depth_closure > 0 {
                self.misplaced(
                    span,
                    "a closure or async block",
                    "a closure runs when it is called, not as part of the coroutine, so it \
                     cannot wait; move the `.wait` out of the closure",
                );
            }
            self.waits.push(span);
        }
        match expr {
            Expr::Closure(_) | Expr::Async(_) => {
                self.depth_closure += 1;
                syn::visit::visit_expr(self, expr);
                self.depth_closure -= 1;
            }
            _ => syn::visit::visit_expr(self, expr),
        }
    }
    fn visit_macro(&mut self, mac: &'a syn::Macro) {
        let tokens: Vec<TokenTree> = mac.tokens.clone().into_iter().collect();
        if let Some(span) = dot_wait(&tokens) {
            self.misplaced(
                span,
                "a macro invocation",
                "corofy cannot see into macros; bind the result to a local first: \
                 `let value = future.wait;` and pass `value` to the macro",
            );
            self.waits.push(span);
        }
    }
    fn visit_item(&mut self, item: &'a Item) {
        // A nested fn is not part of the coroutine: a wait there is misplaced.
        let mut inner = WaitFinder::default();
        syn::visit::visit_item(&mut inner, item);
        if let Some(span) = inner.waits.first().copied() {
            self.misplaced(
                span,
                "a function nested in the coroutine",
                "only the coroutine itself can wait; make the nested function a \
                 `coroutine fn` at the top level and wait on it",
            );
            self.waits.push(span);
        }
    }
}

fn dot_wait(tokens: &[TokenTree]) -> Option<Span> {
    for (i, token) in tokens.iter().enumerate() {
        match token {
            TokenTree::Punct(p) if p.as_char() == '.' => {
                if let Some(TokenTree::Ident(id)) = tokens.get(i + 1)
                    && id == "wait"
                {
                    return Some(id.span());
                }
            }
            TokenTree::Group(g) => {
                let inner: Vec<TokenTree> = g.stream().into_iter().collect();
                if let Some(span) = dot_wait(&inner) {
                    return Some(span);
                }
            }
            _ => {}
        }
    }
    None
}

fn has_wait(expr: &Expr) -> bool {
    let mut f = WaitFinder::default();
    f.visit_expr(expr);
    !f.waits.is_empty()
}

/// An expression whose evaluation has no effect, so a `.wait` after it may be
/// done first without changing what the program does.
fn pure(expr: &Expr) -> bool {
    match expr {
        Expr::Lit(_) | Expr::Path(_) => true,
        Expr::Field(e) => !is_wait(expr) && pure(&e.base),
        Expr::Reference(e) => pure(&e.expr),
        Expr::Paren(e) => pure(&e.expr),
        Expr::Unary(e) => pure(&e.expr),
        _ => false,
    }
}

/// The first of `items` with a wait in it, if everything before it is pure.
fn first_waiting<'e>(
    items: impl Iterator<Item = &'e mut Expr>,
) -> Option<&'e mut Expr> {
    for item in items {
        if has_wait(item) {
            return Some(item);
        }
        if !pure(item) {
            return None;
        }
    }
    None
}

/// Replaces the `.wait` that runs first in `expr` with `__out` and returns
/// what was waited on. `None` when something with an effect would run before
/// it (corofy would have to reorder the program to wait first).
fn take_leftmost_wait(expr: &mut Expr) -> Option<Expr> {
    if is_wait(expr) {
        let Expr::Field(f) = expr else { return None };
        let receiver = (*f.base).clone();
        let out = format_ident!("{}", OUT, span = f.member.span());
        *expr = parse_quote!(#out);
        return Some(receiver);
    }
    let child: &mut Expr = match expr {
        Expr::Try(e) => &mut e.expr,
        Expr::MethodCall(e) => {
            if has_wait(&e.receiver) || !pure(&e.receiver) {
                &mut e.receiver
            } else {
                first_waiting(e.args.iter_mut())?
            }
        }
        Expr::Field(e) => &mut e.base,
        Expr::Cast(e) => &mut e.expr,
        Expr::Binary(e) => {
            if has_wait(&e.left) || !pure(&e.left) {
                &mut e.left
            } else {
                &mut e.right
            }
        }
        Expr::Index(e) => &mut e.expr,
        Expr::Paren(e) => &mut e.expr,
        Expr::Unary(e) => &mut e.expr,
        Expr::Reference(e) => &mut e.expr,
        Expr::Let(e) => &mut e.expr,
        Expr::Call(e) if matches!(*e.func, Expr::Path(_)) => {
            first_waiting(e.args.iter_mut())?
        }
        Expr::Tuple(e) => first_waiting(e.elems.iter_mut())?,
        Expr::Array(e) => first_waiting(e.elems.iter_mut())?,
        Expr::Assign(e) if pure(&e.left) => &mut e.right,
        Expr::Return(e) => e.expr.as_deref_mut()?,
        Expr::If(e) => &mut e.cond,
        Expr::Match(e) => &mut e.expr,
        Expr::ForLoop(e) => &mut e.expr,
        _ => return None,
    };
    take_leftmost_wait(child)
}

/// For `Result<T, E>`, `io::Result<T>` or `Option<T>`: `T`.
fn ok_type(ty: &Type) -> Option<Type> {
    let Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    if last.ident != "Result" && last.ident != "Option" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first()? {
        syn::GenericArgument::Type(t) => Some(t.clone()),
        _ => None,
    }
}

/// Whether a type holds a reference whose lifetime is not named.
fn has_anonymous_reference(ty: &Type) -> bool {
    struct Find(bool);
    impl<'a> Visit<'a> for Find {
        fn visit_type_reference(&mut self, r: &'a syn::TypeReference) {
            if r.lifetime.as_ref().is_none_or(|l| l.ident == "_") {
                self.0 = true;
            }
            syn::visit::visit_type_reference(self, r);
        }
    }
    let mut f = Find(false);
    f.visit_type(ty);
    f.0
}

#[derive(Debug, Clone)]
struct Decl {
    name: Ident,
    ty: Option<Type>,
    mutable: bool,
    /// Set when the local borrows another local (`&x`, `ref x`, ...).
    borrow: Option<Span>,
    block: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Start,
    Waiting,
    LoopHead,
    AfterLoop,
    Continue,
}

#[derive(Debug)]
struct Block {
    name: Ident,
    /// For a block that waits: the future's type and the wait's output type.
    future: Option<(Type, Option<Type>)>,
    code: Vec<Stmt>,
    refs: BTreeSet<usize>,
    succs: BTreeSet<usize>,
    reachable: bool,
}

#[derive(Debug, Clone, Copy)]
enum Cont {
    /// Go on with this block.
    Goto(usize),
    /// The end of the coroutine: the value of the last expression is its result.
    Return,
}

#[derive(Debug)]
struct LoopCtx {
    label: Option<String>,
    head: usize,
    exit: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TryKind {
    Result,
    Option,
}

struct Lowerer<'a> {
    f: &'a ItemFn,
    target: Target,
    known: &'a HashMap<String, CoroutineInfo>,
    output: Type,
    try_kind: TryKind,
    decls: Vec<Decl>,
    scopes: Vec<Vec<usize>>,
    blocks: Vec<Block>,
    loops: Vec<LoopCtx>,
    counters: BTreeMap<&'static str, usize>,
    args: Vec<usize>,
    next_iter: usize,
}

impl<'a> Lowerer<'a> {
    fn new(
        f: &'a ItemFn,
        target: Target,
        known: &'a HashMap<String, CoroutineInfo>,
    ) -> Result<Self> {
        let output: Type = match &f.sig.output {
            ReturnType::Default => parse_quote!(()),
            ReturnType::Type(_, ty) => (**ty).clone(),
        };
        let try_kind = match &output {
            Type::Path(p)
                if p.path.segments.last().is_some_and(|s| s.ident == "Option") =>
            {
                TryKind::Option
            }
            _ => TryKind::Result,
        };
        let mut lowerer = Lowerer {
            f,
            target,
            known,
            output,
            try_kind,
            decls: Vec::new(),
            scopes: vec![Vec::new()],
            blocks: Vec::new(),
            loops: Vec::new(),
            counters: BTreeMap::new(),
            args: Vec::new(),
            next_iter: 0,
        };
        let start = lowerer.new_block(Role::Start, None);
        for input in &f.sig.inputs {
            let FnArg::Typed(arg) = input else {
                return Err(Error::at(input.span(), "a coroutine cannot take `self`")
                    .help("coroutines are free functions; pass the value as an ordinary argument"));
            };
            let Pat::Ident(pat) = &*arg.pat else {
                return Err(Error::at(
                    arg.pat.span(),
                    "corofy needs a plain name for each argument",
                )
                .help("write `name: Type` and destructure inside the body"));
            };
            if pat.by_ref.is_some() || pat.subpat.is_some() {
                return Err(Error::at(
                    arg.pat.span(),
                    "corofy needs a plain name for each argument",
                )
                .help("write `name: Type` and destructure inside the body"));
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
            let id = lowerer.declare(
                &pat.ident,
                Some((*arg.ty).clone()),
                pat.mutability.is_some(),
                None,
                start,
            );
            lowerer.args.push(id);
        }
        Ok(lowerer)
    }

    fn new_block(
        &mut self,
        role: Role,
        future: Option<(Type, Option<Type>)>,
    ) -> usize {
        let prefix = match role {
            Role::Start => "Start",
            Role::Waiting => "Waiting",
            Role::LoopHead => "LoopHead",
            Role::AfterLoop => "AfterLoop",
            Role::Continue => "Continue",
        };
        let count = self.counters.entry(prefix).or_insert(0);
        *count += 1;
        let name = if role == Role::Start {
            format_ident!("Start")
        } else {
            format_ident!("{}{}", prefix, *count)
        };
        self.blocks.push(Block {
            name,
            future,
            code: Vec::new(),
            refs: BTreeSet::new(),
            succs: BTreeSet::new(),
            reachable: true,
        });
        self.blocks.len() - 1
    }

    fn declare(
        &mut self,
        name: &Ident,
        ty: Option<Type>,
        mutable: bool,
        borrow: Option<Span>,
        block: usize,
    ) -> usize {
        self.decls.push(Decl {
            name: name.clone(),
            ty,
            mutable,
            borrow,
            block,
        });
        let id = self.decls.len() - 1;
        if let Some(scope) = self.scopes.last_mut() {
            scope.push(id);
        }
        id
    }

    fn resolve(&self, name: &str) -> Option<usize> {
        self.scopes
            .iter()
            .rev()
            .flat_map(|s| s.iter().rev())
            .copied()
            .find(|&id| self.decls[id].name == name)
    }

    /// Notes every local the tokens refer to as used in `block`. Identifiers
    /// after `.` or before `::`/`!` are not locals; `{name}` in a string
    /// literal is (format strings capture locals by name).
    fn note_refs(&mut self, block: usize, tokens: TokenStream) {
        let tokens: Vec<TokenTree> = tokens.into_iter().collect();
        for (i, token) in tokens.iter().enumerate() {
            match token {
                TokenTree::Ident(ident) => {
                    let is_dot = |j: usize| matches!(tokens.get(j), Some(TokenTree::Punct(p)) if p.as_char() == '.');
                    // `x.name` is a member, but `0..name` is a range ending in a local.
                    let after_dot =
                        i > 0 && is_dot(i - 1) && !(i > 1 && is_dot(i - 2));
                    let before_path_or_bang = matches!(tokens.get(i + 1),
                        Some(TokenTree::Punct(p)) if p.as_char() == '!' || (p.as_char() == ':' && p.spacing() == proc_macro2::Spacing::Joint));
                    if !after_dot
                        && !before_path_or_bang
                        && let Some(id) = self.resolve(&ident.to_string())
                    {
                        self.blocks[block].refs.insert(id);
                    }
                }
                TokenTree::Literal(lit) => {
                    let text = lit.to_string();
                    if text.starts_with('"') || text.starts_with('r') {
                        for name in format_captures(&text) {
                            if let Some(id) = self.resolve(&name) {
                                self.blocks[block].refs.insert(id);
                            }
                        }
                    }
                }
                TokenTree::Group(group) => self.note_refs(block, group.stream()),
                TokenTree::Punct(_) => {}
            }
        }
    }

    fn goto(&mut self, from: usize, to: usize) -> Expr {
        self.blocks[from].succs.insert(to);
        let n = proc_macro2::Literal::usize_unsuffixed(to);
        let mac = format_ident!("{}", GOTO);
        parse_quote!(#mac!(#n))
    }

    fn ret(&self, value: Expr) -> Expr {
        let mac = format_ident!("{}", RETURN);
        parse_quote!(#mac!(#value))
    }

    fn cont_code(&mut self, block: usize, cont: Cont) -> Vec<Stmt> {
        match cont {
            Cont::Goto(to) => {
                vec![Stmt::Expr(self.goto(block, to), Some(Default::default()))]
            }
            Cont::Return => {
                let unit: Expr = parse_quote!(());
                vec![Stmt::Expr(self.ret(unit), Some(Default::default()))]
            }
        }
    }

    fn run(mut self) -> Result<syn::File> {
        let start = 0;
        let body = self.f.block.stmts.clone();
        let code = self.lower_seq(&body, start, Cont::Return)?;
        self.blocks[start].code = code;
        // A block nothing moves to (after a `loop` left only by `return`, say)
        // is dropped: its code may not even type-check, as in Rust, where
        // the code after such a loop is unreachable.
        let mut reachable = BTreeSet::from([start]);
        let mut stack = vec![start];
        while let Some(b) = stack.pop() {
            for &s in &self.blocks[b].succs {
                if reachable.insert(s) {
                    stack.push(s);
                }
            }
        }
        for (b, block) in self.blocks.iter_mut().enumerate() {
            if !reachable.contains(&b) {
                block.code.clear();
                block.succs.clear();
                block.refs.clear();
                block.reachable = false;
            }
        }
        let live = self.liveness();
        self.check_payloads(&live)?;
        self.render(&live)
    }

    /// Lowers a list of statements in a scope of its own.
    fn lower_seq(
        &mut self,
        stmts: &[Stmt],
        block: usize,
        cont: Cont,
    ) -> Result<Vec<Stmt>> {
        self.scopes.push(Vec::new());
        let code = self.lower_stmts(stmts, block, cont);
        self.scopes.pop();
        code
    }

    /// Lowers statements into `block` (in the current scope), then `cont`.
    fn lower_stmts(
        &mut self,
        stmts: &[Stmt],
        block: usize,
        cont: Cont,
    ) -> Result<Vec<Stmt>> {
        let mut out = Vec::new();
        for (i, stmt) in stmts.iter().enumerate() {
            let rest = &stmts[i + 1..];
            let last = rest.is_empty();
            let waits = WaitFinder::of_stmt(stmt)?;
            if waits.is_empty() {
                match stmt {
                    Stmt::Local(local) => {
                        if let Some(init) = &local.init {
                            let (expr, diverge) =
                                (&init.expr, init.diverge.as_ref().map(|d| &d.1));
                            self.note_refs(block, quote!(#expr #diverge));
                        }
                        self.declare_local(local, block)?;
                    }
                    other => self.note_refs(block, quote!(#other)),
                }
                let mut stmt = stmt.clone();
                self.rewrite_inline_stmt(&mut stmt, block)?;
                match (stmt, last, cont) {
                    (Stmt::Expr(expr, None), true, Cont::Return) => {
                        // A coroutine returning `()` whose last expression is
                        // a `match` or a call: run it, then return `()`, rather
                        // than passing a unit value around.
                        let unit_output = matches!(&self.output, Type::Tuple(t) if t.elems.is_empty());
                        let unit_expr =
                            matches!(&expr, Expr::Tuple(t) if t.elems.is_empty());
                        if unit_output && !unit_expr {
                            let stmt = Stmt::Expr(expr, Some(Default::default()));
                            let diverges = diverges(&stmt);
                            out.push(stmt);
                            if !diverges {
                                out.extend(self.cont_code(block, cont));
                            }
                        } else {
                            out.push(Stmt::Expr(
                                self.ret(expr),
                                Some(Default::default()),
                            ));
                        }
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
                continue;
            }
            out.extend(self.lower_waiting_stmt(stmt, rest, block, cont, &waits)?);
            return Ok(out);
        }
        out.extend(self.cont_code(block, cont));
        Ok(out)
    }

    /// A statement with at least one `.wait` in it, and what follows it.
    fn lower_waiting_stmt(
        &mut self,
        stmt: &Stmt,
        rest: &[Stmt],
        block: usize,
        cont: Cont,
        waits: &[Span],
    ) -> Result<Vec<Stmt>> {
        match stmt {
            Stmt::Expr(Expr::If(e), _) if WaitFinder::of_expr(&e.cond)?.is_empty() => {
                let (branch_cont, join) = self.join_block(rest, cont);
                let code = self.lower_if(e, block, branch_cont)?;
                self.fill_join(join, rest, cont)?;
                Ok(code)
            }
            Stmt::Expr(Expr::Match(e), _) if WaitFinder::of_expr(&e.expr)?.is_empty() => {
                let (arm_cont, join) = self.join_block(rest, cont);
                let code = self.lower_match(e, block, arm_cont)?;
                self.fill_join(join, rest, cont)?;
                Ok(code)
            }
            Stmt::Expr(Expr::Block(e), _) if e.label.is_none() => {
                let (inner_cont, join) = self.join_block(rest, cont);
                let code = self.lower_seq(&e.block.stmts, block, inner_cont)?;
                self.fill_join(join, rest, cont)?;
                Ok(code)
            }
            Stmt::Expr(Expr::Loop(e), _) => {
                let exit = self.new_block(Role::AfterLoop, None);
                let label = e.label.as_ref().map(|l| l.name.ident.to_string());
                let code = self.lower_loop(label, &e.body.stmts, block, exit)?;
                let exit_code = self.lower_stmts(rest, exit, cont)?;
                self.blocks[exit].code = exit_code;
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
            Stmt::Expr(Expr::ForLoop(e), semi)
                if WaitFinder::of_expr(&e.expr)?.is_empty() =>
            {
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
                    if matches!(
                        &*init.expr,
                        Expr::If(_) | Expr::Match(_) | Expr::Block(_) | Expr::Loop(_)
                    ) {
                        return Err(Error::at(waits[0], "`.wait` inside an `if`, `match`, `loop` or block whose value is assigned")
                            .help("declare the local first and assign it in each branch: \
                                   `let mut x: Type = ...; if c { x = f.wait; } else { x = g; }`"));
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

    /// Where the branches of a compound statement go when they finish: a new
    /// block for the statements after it, or straight to `cont` if there are none.
    fn join_block(&mut self, rest: &[Stmt], cont: Cont) -> (Cont, Option<usize>) {
        if rest.is_empty() {
            (cont, None)
        } else {
            let join = self.new_block(Role::Continue, None);
            (Cont::Goto(join), Some(join))
        }
    }

    /// Lowers the statements after a compound statement into its join block.
    /// Done after the branches, so that names declared later are not visible
    /// in them.
    fn fill_join(
        &mut self,
        join: Option<usize>,
        rest: &[Stmt],
        cont: Cont,
    ) -> Result<()> {
        if let Some(join) = join {
            let code = self.lower_stmts(rest, join, cont)?;
            self.blocks[join].code = code;
        }
        Ok(())
    }

    /// A statement whose (single) wait comes first: start the wait here, and
    /// run the statement with the result in the next block.
    fn wait_site(
        &mut self,
        stmt: &Stmt,
        rest: &[Stmt],
        block: usize,
        cont: Cont,
        waits: &[Span],
    ) -> Result<Vec<Stmt>> {
        let mut template = stmt.clone();
        let receiver = match &mut template {
            Stmt::Local(local) => local
                .init
                .as_mut()
                .and_then(|i| take_leftmost_wait(&mut i.expr)),
            Stmt::Expr(expr, _) => take_leftmost_wait(expr),
            _ => None,
        };
        let Some(receiver) = receiver else {
            return Err(Error::at(waits[0], "this `.wait` is not the first thing its statement does")
                .help("corofy keeps Rust's order of evaluation by waiting before the rest of \
                       the statement runs; bind the waited value to a local first: \
                       `let value = future.wait;`"));
        };
        // Any other wait in the statement must be inside a block that the
        // template lowers in its turn (the branches of an `if`, say).
        let header_waits = match &template {
            Stmt::Local(local) => local
                .init
                .as_ref()
                .map(|i| WaitFinder::of_expr(&i.expr))
                .transpose()?
                .unwrap_or_default(),
            Stmt::Expr(Expr::If(e), _) => WaitFinder::of_expr(&e.cond)?,
            Stmt::Expr(Expr::Match(e), _) => WaitFinder::of_expr(&e.expr)?,
            Stmt::Expr(Expr::ForLoop(e), _) => WaitFinder::of_expr(&e.expr)?,
            Stmt::Expr(Expr::While(e), _) => WaitFinder::of_expr(&e.cond)?,
            Stmt::Expr(expr, _) => WaitFinder::of_expr(expr)?,
            _ => Vec::new(),
        };
        if let Some(second) = header_waits.first() {
            return Err(Error::at(
                *second,
                "a second `.wait` in the same expression",
            )
            .help(
                "wait once per statement: bind each waited value to a local first",
            ));
        }
        if !WaitFinder::of_expr(&receiver)?.is_empty() {
            return Err(Error::at(
                waits[0],
                "waiting on a future that itself comes from a `.wait`",
            )
            .help("bind the first result to a local, then wait on it"));
        }
        let (future_ty, output_ty) = self.future_type(&receiver)?;
        let mut receiver = receiver;
        self.rewrite_inline_expr(&mut receiver, block)?;
        let resume =
            self.new_block(Role::Waiting, Some((future_ty, output_ty.clone())));
        self.note_refs(block, quote!(#receiver));
        self.blocks[block].succs.insert(resume);
        let mac = format_ident!("{}", WAIT);
        let n = proc_macro2::Literal::usize_unsuffixed(resume);
        let start: Expr = parse_quote!(#mac!(#n, #receiver));
        let here = vec![Stmt::Expr(start, Some(Default::default()))];

        // The result of a bare `let x = fut.wait;` has the future's output type.
        let out_ty = output_ty.clone();
        let mut stmts = vec![template];
        if let Stmt::Local(local) = &mut stmts[0]
            && let Some(init) = &local.init
            && !matches!(local.pat, Pat::Type(_))
        {
            let ty = match &*init.expr {
                Expr::Path(p) if p.path.is_ident(OUT) => out_ty,
                Expr::Try(t) if matches!(&*t.expr, Expr::Path(p) if p.path.is_ident(OUT)) => {
                    out_ty.as_ref().and_then(ok_type)
                }
                _ => None,
            };
            if let Some(ty) = ty {
                local.pat = Pat::Type(syn::PatType {
                    attrs: Vec::new(),
                    pat: Box::new(local.pat.clone()),
                    colon_token: Default::default(),
                    ty: Box::new(ty),
                });
            }
        }
        stmts.extend_from_slice(rest);
        let code = self.lower_stmts(&stmts, resume, cont)?;
        self.blocks[resume].code = code;
        Ok(here)
    }

    /// The type of the future a `.wait` waits on, and of its output if known.
    fn future_type(&self, receiver: &Expr) -> Result<(Type, Option<Type>)> {
        let projection = |ty: &Type| -> Type {
            match self.target {
                Target::Std => parse_quote!(<#ty as ::std::future::Future>::Output),
                _ => parse_quote!(<#ty as Future>::Output),
            }
        };
        match receiver {
            Expr::Call(call) => {
                if let Expr::Path(p) = &*call.func {
                    let segments = &p.path.segments;
                    if segments.len() == 1
                        && let Some(info) =
                            self.known.get(&segments[0].ident.to_string())
                    {
                        if info.generic {
                            return Err(Error::at(
                                call.span(),
                                "waiting on a generic coroutine",
                            )
                            .help(
                                "bind it to a local with its full type first: \
                                       `let fut: Name<T> = name(...); fut.wait`",
                            ));
                        }
                        let ty = &info.type_name;
                        return Ok((parse_quote!(#ty), Some(info.output.clone())));
                    }
                    // A tuple struct's constructor: `Name(..)` or `module::Name(..)`.
                    let upper = |i: &Ident| {
                        i.to_string().starts_with(|c: char| c.is_ascii_uppercase())
                    };
                    let n = segments.len();
                    if upper(&segments[n - 1].ident)
                        && (n == 1 || !upper(&segments[n - 2].ident))
                    {
                        let ty: Type = parse_quote!(#p);
                        let out = projection(&ty);
                        return Ok((ty, Some(out)));
                    }
                    if segments.len() >= 2
                        && segments.last().is_some_and(|s| s.ident == "new")
                    {
                        let mut path = p.path.clone();
                        path.segments.pop();
                        let path = syn::Path {
                            leading_colon: path.leading_colon,
                            segments: path
                                .segments
                                .into_pairs()
                                .map(|p| p.into_value())
                                .collect(),
                        };
                        let ty: Type = parse_quote!(#path);
                        let out = projection(&ty);
                        return Ok((ty, Some(out)));
                    }
                }
            }
            Expr::Path(p) if p.path.get_ident().is_some() => {
                let name = p.path.segments[0].ident.to_string();
                if let Some(id) = self.resolve(&name) {
                    return match &self.decls[id].ty {
                        Some(ty) => Ok((ty.clone(), Some(projection(ty)))),
                        None => Err(Error::at(receiver.span(), format!("corofy cannot tell the type of the future `{name}`"))
                            .help(format!("give `{name}` a type where it is declared: `let {name}: TheFuture = ...;`"))),
                    };
                }
            }
            _ => {}
        }
        Err(Error::at(receiver.span(), "corofy cannot tell the type of the future this `.wait` waits on")
            .help("the state machine has to store the future, so it needs its type: bind it to a \
                   local with a type first (`let fut: TheFuture = ...; let value = fut.wait;`); \
                   corofy also knows `Type::new(..)` calls, tuple structs `Type(..)` and the \
                   coroutines in this file"))
    }

    fn declare_local(&mut self, local: &syn::Local, block: usize) -> Result<()> {
        let init = local.init.as_ref().map(|i| &*i.expr);
        let (pat, ty) = match &local.pat {
            Pat::Type(pt) => (&*pt.pat, Some((*pt.ty).clone())),
            other => (other, None),
        };
        let borrow = init.and_then(|e| self.borrowed_local(e));
        self.declare_pattern(pat, ty, borrow, block);
        Ok(())
    }

    /// `&x`, `&mut x`, `&x[..]`, `x.as_str()`, ... where `x` is a local.
    fn borrowed_local(&self, expr: &Expr) -> Option<Span> {
        let base_local = |mut e: &Expr| -> bool {
            loop {
                match e {
                    Expr::Field(f) => e = &f.base,
                    Expr::Index(i) => e = &i.expr,
                    Expr::Paren(p) => e = &p.expr,
                    Expr::Path(p) => {
                        return p
                            .path
                            .get_ident()
                            .and_then(|i| self.resolve(&i.to_string()))
                            .is_some_and(|id| {
                                !self.args.contains(&id)
                                    || !matches!(
                                        self.decls[id].ty,
                                        Some(Type::Reference(_))
                                    )
                            });
                    }
                    _ => return false,
                }
            }
        };
        match expr {
            Expr::Reference(r) if base_local(&r.expr) => Some(r.span()),
            Expr::MethodCall(m)
                if base_local(&m.receiver)
                    && [
                        "as_str",
                        "as_ref",
                        "as_mut",
                        "as_slice",
                        "iter",
                        "iter_mut",
                        "borrow",
                        "borrow_mut",
                        "as_bytes",
                        "trim",
                    ]
                    .contains(&m.method.to_string().as_str()) =>
            {
                Some(m.span())
            }
            Expr::Paren(p) => self.borrowed_local(&p.expr),
            _ => None,
        }
    }

    fn declare_pattern(
        &mut self,
        pat: &Pat,
        ty: Option<Type>,
        borrow: Option<Span>,
        block: usize,
    ) {
        match pat {
            Pat::Ident(p) => {
                let borrow = borrow.or(p.by_ref.map(|r| r.span));
                self.declare(&p.ident, ty, p.mutability.is_some(), borrow, block);
                if let Some((_, sub)) = &p.subpat {
                    self.declare_pattern(sub, None, borrow, block);
                }
            }
            Pat::Type(pt) => {
                self.declare_pattern(&pt.pat, Some((*pt.ty).clone()), borrow, block)
            }
            other => {
                // Destructuring: every binding is a local of unknown type.
                struct Bindings<'b>(Vec<&'b syn::PatIdent>);
                impl<'b> Visit<'b> for Bindings<'b> {
                    fn visit_pat_ident(&mut self, p: &'b syn::PatIdent) {
                        self.0.push(p);
                        syn::visit::visit_pat_ident(self, p);
                    }
                }
                let mut found = Bindings(Vec::new());
                found.visit_pat(other);
                for p in found.0 {
                    let borrow = borrow.or(p.by_ref.map(|r| r.span));
                    self.declare(
                        &p.ident,
                        None,
                        p.mutability.is_some(),
                        borrow,
                        block,
                    );
                }
            }
        }
    }

    fn lower_if(
        &mut self,
        e: &syn::ExprIf,
        block: usize,
        cont: Cont,
    ) -> Result<Vec<Stmt>> {
        let cond = &e.cond;
        self.note_refs(block, quote!(#cond));
        // `if let` bindings belong to the then-branch.
        self.scopes.push(Vec::new());
        if let Expr::Let(l) = &**cond {
            self.declare_pattern(&l.pat, None, None, block);
        }
        let mut cond = (**cond).clone();
        self.rewrite_inline_expr(&mut cond, block)?;
        let then_code = self.lower_seq(&e.then_branch.stmts, block, cont)?;
        self.scopes.pop();
        let else_code = match &e.else_branch {
            Some((_, else_expr)) => match &**else_expr {
                Expr::Block(b) => self.lower_seq(&b.block.stmts, block, cont)?,
                other => {
                    let stmt = Stmt::Expr(other.clone(), None);
                    self.lower_seq(&[stmt], block, cont)?
                }
            },
            None => self.cont_code(block, cont),
        };
        let expr: Expr = parse_quote! {
            if #cond { #(#then_code)* } else { #(#else_code)* }
        };
        Ok(vec![Stmt::Expr(expr, None)])
    }

    fn lower_match(
        &mut self,
        e: &syn::ExprMatch,
        block: usize,
        cont: Cont,
    ) -> Result<Vec<Stmt>> {
        let scrutinee = &e.expr;
        self.note_refs(block, quote!(#scrutinee));
        let mut scrutinee = (**scrutinee).clone();
        self.rewrite_inline_expr(&mut scrutinee, block)?;
        let mut arms = Vec::new();
        for arm in &e.arms {
            self.scopes.push(Vec::new());
            self.declare_pattern(&arm.pat, None, None, block);
            if let Some((_, guard)) = &arm.guard {
                if let Some(span) = WaitFinder::of_expr(guard)?.first() {
                    self.scopes.pop();
                    return Err(Error::at(*span, "`.wait` in a match guard").help(
                        "wait before the `match` and use the value in the guard",
                    ));
                }
                self.note_refs(block, quote!(#guard));
            }
            let stmts = match &*arm.body {
                Expr::Block(b) if b.label.is_none() => b.block.stmts.clone(),
                other => vec![Stmt::Expr(other.clone(), None)],
            };
            let code = self.lower_seq(&stmts, block, cont)?;
            self.scopes.pop();
            let pat = &arm.pat;
            let guard = arm.guard.as_ref().map(|(i, g)| quote!(#i #g));
            arms.push(quote!(#pat #guard => { #(#code)* }));
        }
        let expr: Expr = parse_quote!(match #scrutinee { #(#arms)* });
        Ok(vec![Stmt::Expr(expr, None)])
    }

    fn lower_loop(
        &mut self,
        label: Option<String>,
        body: &[Stmt],
        block: usize,
        exit: usize,
    ) -> Result<Vec<Stmt>> {
        let head = self.new_block(Role::LoopHead, None);
        self.loops.push(LoopCtx { label, head, exit });
        let code = self.lower_seq(body, head, Cont::Goto(head));
        self.loops.pop();
        self.blocks[head].code = code?;
        Ok(vec![Stmt::Expr(
            self.goto(block, head),
            Some(Default::default()),
        )])
    }

    /// `for p in items { .. }` with a wait inside becomes an explicit iterator
    /// local (which needs a type) and a `loop` over `Iterator::next`.
    fn desugar_for(
        &mut self,
        e: &syn::ExprForLoop,
        semi: Option<syn::Token![;]>,
    ) -> Result<Vec<Stmt>> {
        let items = &e.expr;
        let items_ty: Type = match &**items {
            Expr::Path(p) if p.path.get_ident().is_some() => {
                let name = p.path.segments[0].ident.to_string();
                match self.resolve(&name).and_then(|id| self.decls[id].ty.clone()) {
                    Some(ty) => ty,
                    None => return Err(self.for_type_error(items)),
                }
            }
            Expr::Range(r) => {
                let typed = |bound: &Option<Box<Expr>>| -> Option<Type> {
                    match bound.as_deref()? {
                        Expr::Lit(syn::ExprLit {
                            lit: syn::Lit::Int(i),
                            ..
                        }) if !i.suffix().is_empty() => {
                            syn::parse_str(i.suffix()).ok()
                        }
                        Expr::Path(p) => {
                            let id =
                                self.resolve(&p.path.get_ident()?.to_string())?;
                            self.decls[id].ty.clone()
                        }
                        _ => None,
                    }
                };
                let Some(int) = typed(&r.start).or_else(|| typed(&r.end)) else {
                    return Err(self.for_type_error(items));
                };
                match r.limits {
                    syn::RangeLimits::HalfOpen(_) => {
                        parse_quote!(::std::ops::Range<#int>)
                    }
                    syn::RangeLimits::Closed(_) => {
                        parse_quote!(::std::ops::RangeInclusive<#int>)
                    }
                }
            }
            _ => return Err(self.for_type_error(items)),
        };
        self.next_iter += 1;
        let iter = format_ident!("__iter{}", self.next_iter);
        let pat = &e.pat;
        let label = &e.label;
        let body = &e.body;
        let item_ty: Type = parse_quote!(<#items_ty as IntoIterator>::Item);
        let bind: Stmt = match &**pat {
            Pat::Ident(_) => parse_quote!(let #pat: #item_ty = __item;),
            // Parentheses keep an or-pattern (`A | B`) valid after `let`.
            Pat::Or(_) => parse_quote!(let (#pat) = __item;),
            _ => parse_quote!(let #pat = __item;),
        };
        let stmts = body.stmts.iter();
        Ok(vec![
            parse_quote!(let mut #iter: <#items_ty as IntoIterator>::IntoIter = IntoIterator::into_iter(#items);),
            Stmt::Expr(
                parse_quote! {
                    #label loop {
                        match Iterator::next(&mut #iter) {
                            Some(__item) => { #bind #(#stmts)* }
                            None => break,
                        }
                    }
                },
                semi,
            ),
        ])
    }

    fn for_type_error(&self, items: &Expr) -> Error {
        Error::at(items.span(), "corofy cannot tell the type of what this `for` loop iterates over")
            .help("the iterator is kept across the loop's `.wait`, so it needs a type: bind what \
                   you iterate over to a local with a type first (`let items: Vec<String> = ...; \
                   for item in items {`), or give a range a typed bound (`0..n` with `n: u32`, or `0..3u32`)")
    }

    fn rewrite_inline_stmt(&mut self, stmt: &mut Stmt, block: usize) -> Result<()> {
        let mut rewriter = Inline::new(self, block);
        rewriter.visit_stmt_mut(stmt);
        rewriter.finish()
    }

    fn rewrite_inline_expr(&mut self, expr: &mut Expr, block: usize) -> Result<()> {
        let mut rewriter = Inline::new(self, block);
        rewriter.visit_expr_mut(expr);
        rewriter.finish()
    }

    /// live_in of every block: the locals its code (or a later block) needs.
    fn liveness(&self) -> Vec<BTreeSet<usize>> {
        let n = self.blocks.len();
        let defs: Vec<BTreeSet<usize>> = (0..n)
            .map(|b| {
                (0..self.decls.len())
                    .filter(|&d| {
                        self.decls[d].block == b
                            && !(b == 0 && self.args.contains(&d))
                    })
                    .collect()
            })
            .collect();
        let uses: Vec<BTreeSet<usize>> = (0..n)
            .map(|b| self.blocks[b].refs.difference(&defs[b]).copied().collect())
            .collect();
        let mut live: Vec<BTreeSet<usize>> = uses.clone();
        loop {
            let mut changed = false;
            for b in (0..n).rev() {
                let mut out = BTreeSet::new();
                for &s in &self.blocks[b].succs {
                    out.extend(live[s].iter().copied());
                }
                let mut new: BTreeSet<usize> = uses[b].clone();
                new.extend(out.difference(&defs[b]).copied());
                if new != live[b] {
                    live[b] = new;
                    changed = true;
                }
            }
            if !changed {
                return live;
            }
        }
    }

    fn check_payloads(&self, live: &[BTreeSet<usize>]) -> Result<()> {
        for (b, set) in live.iter().enumerate() {
            if b == 0 {
                continue;
            }
            let mut names = BTreeMap::new();
            for &d in set {
                let decl = &self.decls[d];
                if let Some(span) = decl.borrow {
                    return Err(Error::at(span, format!(
                        "`{}` borrows a local and is still in use after a `.wait`", decl.name))
                        .help("across a wait, both would become fields of the state machine, and a \
                               field cannot hold a reference to another field of the same value \
                               (chapter 3 shows why); keep an owned value instead (clone it, or \
                               store an index), or finish using the borrow before the `.wait`"));
                }
                match &decl.ty {
                    None => {
                        return Err(Error::at(decl.name.span(), format!(
                            "`{}` is used after a `.wait`, so it becomes a field of the state machine, \
                             but corofy cannot tell its type", decl.name))
                        .help(format!("write its type where it is declared: `let {}: Type = ...;`", decl.name)));
                    }
                    Some(ty)
                        if has_anonymous_reference(ty)
                            && !self.args.contains(&d) =>
                    {
                        return Err(Error::at(decl.name.span(), format!(
                            "`{}` holds a reference and is still in use after a `.wait`", decl.name))
                            .help("across a wait it becomes a field of the state machine, and a reference \
                                   stored there would need a named lifetime (or would point into the \
                                   machine itself: chapter 3); keep an owned value instead"));
                    }
                    Some(_) => {}
                }
                if let Some(other) = names.insert(decl.name.to_string(), d) {
                    let _ = other;
                    return Err(Error::at(decl.name.span(), format!(
                        "two locals named `{}` are both in use across the same `.wait`", decl.name))
                        .help("rename one of them"));
                }
            }
        }
        Ok(())
    }

    fn render(&self, live: &[BTreeSet<usize>]) -> Result<syn::File> {
        let f = self.f;
        let vis = &f.vis;
        let name = &f.sig.ident;
        let ty_name = type_name(name);
        let state_name = format_ident!("{}State", ty_name);
        let (impl_generics, ty_generics, where_clause) =
            f.sig.generics.split_for_impl();
        let generics = &f.sig.generics;
        let output = &self.output;
        let doc_attrs: Vec<_> = f
            .attrs
            .iter()
            .filter(|a| a.path().is_ident("doc"))
            .collect();
        let other_attrs: Vec<_> = f
            .attrs
            .iter()
            .filter(|a| !a.path().is_ident("doc"))
            .collect();

        let marker_types: Vec<TokenStream> = f
            .sig
            .generics
            .params
            .iter()
            .filter_map(|p| match p {
                syn::GenericParam::Type(t) => {
                    let i = &t.ident;
                    Some(quote!(#i))
                }
                syn::GenericParam::Lifetime(l) => {
                    let l = &l.lifetime;
                    Some(quote!(&#l ()))
                }
                syn::GenericParam::Const(_) => None,
            })
            .collect();
        let (done_variant, done_value) = if marker_types.is_empty() {
            (quote!(Done), quote!(#state_name::Done))
        } else {
            (
                quote!(Done(::std::marker::PhantomData<fn() -> (#(#marker_types,)*)>)),
                quote!(#state_name::Done(::std::marker::PhantomData)),
            )
        };

        let awaited = format_ident!("{}", AWAITED);
        let field_ty =
            |d: usize| self.decls[d].ty.clone().expect("checked in check_payloads");
        let mut variants = Vec::new();
        for (b, block) in
            self.blocks.iter().enumerate().filter(|(_, b)| b.reachable)
        {
            let vname = &block.name;
            let mut fields: Vec<TokenStream> = live_fields(b, live, self)
                .into_iter()
                .map(|d| {
                    let n = &self.decls[d].name;
                    let t = field_ty(d);
                    quote!(#n: #t)
                })
                .collect();
            if let Some((fut, _)) = &block.future {
                fields.push(match self.target {
                    Target::Std => quote!(#awaited: ::std::pin::Pin<Box<#fut>>),
                    _ => quote!(#awaited: #fut),
                });
            }
            variants.push(quote!(#vname { #(#fields),* }));
        }

        let state_place = match self.target {
            Target::Std => quote!(this.state),
            _ => quote!(self.state),
        };
        let (ready, not_ready, poll_inner) = match self.target {
            Target::Own => (
                quote!(PollState::Ready),
                quote!(PollState::NotReady),
                quote!(#awaited.poll()),
            ),
            Target::Waker => (
                quote!(PollState::Ready),
                quote!(PollState::NotReady),
                quote!(#awaited.poll(waker)),
            ),
            Target::Std => (
                quote!(::std::task::Poll::Ready),
                quote!(::std::task::Poll::Pending),
                quote!(#awaited.as_mut().poll(cx)),
            ),
        };
        let out = format_ident!("{}", OUT);
        let mut arms = Vec::new();
        for (b, block) in
            self.blocks.iter().enumerate().filter(|(_, b)| b.reachable)
        {
            let vname = &block.name;
            let bound = live_fields(b, live, self);
            let mut pats: Vec<TokenStream> = bound
                .iter()
                .map(|&d| {
                    let n = &self.decls[d].name;
                    if self.decls[d].mutable {
                        quote!(mut #n)
                    } else {
                        quote!(#n)
                    }
                })
                .collect();
            let plain: Vec<&Ident> =
                bound.iter().map(|&d| &self.decls[d].name).collect();
            let mut renderer = Render {
                lowerer: self,
                live,
                state_place: &state_place,
                ready: &ready,
                target: self.target,
            };
            let code = renderer.render_stmts(block.code.clone());
            if block.future.is_some() {
                pats.push(quote!(mut #awaited));
                arms.push(quote! {
                    #state_name::#vname { #(#pats),* } => match #poll_inner {
                        #not_ready => {
                            #state_place = #state_name::#vname { #(#plain,)* #awaited };
                            return #not_ready;
                        }
                        #ready(#out) => { #(#code)* }
                    }
                });
            } else {
                arms.push(
                    quote!(#state_name::#vname { #(#pats),* } => { #(#code)* }),
                );
            }
        }
        let done_msg = format!("`{name}` was polled after it completed");
        let done_pat = if marker_types.is_empty() {
            quote!(#state_name::Done)
        } else {
            quote!(#state_name::Done(_))
        };
        let has_transfers = self.blocks.len() > 1;
        let label = has_transfers.then(|| quote!('machine:));
        let body = quote! {
            #label loop {
                match ::std::mem::replace(&mut #state_place, #done_value) {
                    #(#arms)*
                    #done_pat => panic!(#done_msg),
                }
            }
        };
        let poll_fn = match self.target {
            Target::Own => quote! {
                #[allow(unused_mut, clippy::never_loop, clippy::useless_conversion)]
                fn poll(&mut self) -> PollState<Self::Output> { #body }
            },
            Target::Waker => quote! {
                #[allow(unused_mut, clippy::never_loop, clippy::useless_conversion)]
                fn poll(&mut self, waker: &Waker) -> PollState<Self::Output> { #body }
            },
            Target::Std => quote! {
                #[allow(unused_mut, clippy::never_loop, clippy::useless_conversion)]
                fn poll(
                    self: ::std::pin::Pin<&mut Self>,
                    cx: &mut ::std::task::Context<'_>,
                ) -> ::std::task::Poll<Self::Output> {
                    let this = self.get_mut();
                    #body
                }
            },
        };
        let future_trait = match self.target {
            Target::Std => quote!(::std::future::Future),
            _ => quote!(Future),
        };
        let unpin = (self.target == Target::Std).then(|| {
            let doc = format!(
                " `{ty_name}` never pins its fields in place: every future it waits on \
                 is pinned in a `Box` of its own, so moving the machine is harmless."
            );
            quote! {
                #[doc = #doc]
                impl #impl_generics Unpin for #ty_name #ty_generics #where_clause {}
            }
        });
        let args: Vec<TokenStream> = f
            .sig
            .inputs
            .iter()
            .filter_map(|a| match a {
                FnArg::Typed(t) => {
                    let mut pat = (*t.pat).clone();
                    if let Pat::Ident(p) = &mut pat {
                        p.mutability = None;
                    }
                    let ty = &t.ty;
                    Some(quote!(#pat: #ty))
                }
                FnArg::Receiver(_) => None,
            })
            .collect();
        let arg_names: Vec<&Ident> =
            self.args.iter().map(|&d| &self.decls[d].name).collect();
        let start_fields: Vec<&Ident> =
            live[0].iter().map(|&d| &self.decls[d].name).collect();
        let unused_args: Vec<&&Ident> = arg_names
            .iter()
            .filter(|n| !start_fields.contains(n))
            .collect();
        let type_doc = format!(
            " State machine generated by corofy from `coroutine fn {name}`."
        );
        let state_doc = format!(
            " The states of `{ty_name}`: each holds what the rest of the coroutine needs."
        );
        let tokens = quote! {
            #(#doc_attrs)*
            #(#other_attrs)*
            #vis fn #name #impl_generics (#(#args),*) -> #ty_name #ty_generics #where_clause {
                #(let _ = #unused_args;)*
                #ty_name { state: #state_name::Start { #(#start_fields),* } }
            }

            #[doc = #type_doc]
            #[must_use = "a future does nothing unless it is polled"]
            #vis struct #ty_name #generics #where_clause {
                state: #state_name #ty_generics,
            }

            #[doc = #state_doc]
            enum #state_name #generics #where_clause {
                #(#variants,)*
                #done_variant,
            }

            impl #impl_generics #future_trait for #ty_name #ty_generics #where_clause {
                type Output = #output;
                #poll_fn
            }

            #unpin
        };
        syn::parse2(tokens)
            .map_err(|e| Error::internal(format!("rendering `{name}`: {e}")))
    }
}

/// The locals a block's variant carries, in declaration order.
fn live_fields(
    block: usize,
    live: &[BTreeSet<usize>],
    lowerer: &Lowerer<'_>,
) -> Vec<usize> {
    let _ = lowerer;
    live[block].iter().copied().collect()
}

/// Whether a (rewritten) statement never finishes normally.
fn diverges(stmt: &Stmt) -> bool {
    let macro_name = |m: &syn::Macro| m.path.get_ident().map(|i| i.to_string());
    let is_diverging_macro = |m: &syn::Macro| {
        macro_name(m).is_some_and(|n| {
            [
                GOTO,
                RETURN,
                "panic",
                "unreachable",
                "todo",
                "unimplemented",
            ]
            .contains(&n.as_str())
        })
    };
    match stmt {
        Stmt::Expr(Expr::Macro(m), _) => is_diverging_macro(&m.mac),
        Stmt::Macro(m) => is_diverging_macro(&m.mac),
        Stmt::Expr(Expr::Return(_) | Expr::Break(_) | Expr::Continue(_), _) => true,
        _ => false,
    }
}

/// `{name}` captures in a format string literal.
fn format_captures(literal: &str) -> Vec<String> {
    let mut names = Vec::new();
    let bytes: Vec<char> = literal.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == '{' {
            if bytes.get(i + 1) == Some(&'{') {
                i += 2;
                continue;
            }
            let mut j = i + 1;
            while j < bytes.len() && (bytes[j].is_alphanumeric() || bytes[j] == '_')
            {
                j += 1;
            }
            if j > i + 1 && matches!(bytes.get(j), Some('}') | Some(':')) {
                let name: String = bytes[i + 1..j].iter().collect();
                if !name.chars().next().is_some_and(|c| c.is_ascii_digit()) {
                    names.push(name);
                }
            }
            i = j;
        } else {
            i += 1;
        }
    }
    names
}

/// Rewrites wait-free code that runs inside the poll function: `return`,
/// `?`, and `break`/`continue` of a lowered loop become moves of the machine.
struct Inline<'l, 'a> {
    lowerer: &'l mut Lowerer<'a>,
    block: usize,
    inner_loops: Vec<Option<String>>,
    error: Option<Error>,
}

impl<'l, 'a> Inline<'l, 'a> {
    fn new(lowerer: &'l mut Lowerer<'a>, block: usize) -> Self {
        Inline {
            lowerer,
            block,
            inner_loops: Vec::new(),
            error: None,
        }
    }
    fn finish(self) -> Result<()> {
        match self.error {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
    /// The lowered loop a `break`/`continue` with this label targets, if any.
    fn target_loop(&self, label: Option<&syn::Lifetime>) -> Option<(usize, usize)> {
        match label {
            Some(l) => {
                let name = l.ident.to_string();
                if self.inner_loops.iter().any(|i| i.as_deref() == Some(&name)) {
                    return None;
                }
                self.lowerer
                    .loops
                    .iter()
                    .rev()
                    .find(|c| c.label.as_deref() == Some(&name))
                    .map(|c| (c.head, c.exit))
            }
            None if self.inner_loops.is_empty() => {
                self.lowerer.loops.last().map(|c| (c.head, c.exit))
            }
            None => None,
        }
    }
}

impl VisitMut for Inline<'_, '_> {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        match expr {
            Expr::Closure(_) | Expr::Async(_) | Expr::Const(_) => {}
            Expr::Return(r) => {
                if let Some(e) = r.expr.as_deref_mut() {
                    self.visit_expr_mut(e);
                }
                let value: Expr = r
                    .expr
                    .as_deref()
                    .cloned()
                    .unwrap_or_else(|| parse_quote!(()));
                *expr = self.lowerer.ret(value);
            }
            Expr::Try(t) => {
                self.visit_expr_mut(&mut t.expr);
                let inner = &t.expr;
                let bail = match self.lowerer.try_kind {
                    TryKind::Result => {
                        self.lowerer.ret(parse_quote!(Err(From::from(error))))
                    }
                    TryKind::Option => self.lowerer.ret(parse_quote!(None)),
                };
                *expr = match self.lowerer.try_kind {
                    TryKind::Result => {
                        parse_quote!(match #inner { Ok(value) => value, Err(error) => #bail })
                    }
                    TryKind::Option => {
                        parse_quote!(match #inner { Some(value) => value, None => #bail })
                    }
                };
            }
            Expr::Break(b) => {
                if let Some(e) = b.expr.as_deref_mut() {
                    self.visit_expr_mut(e);
                }
                if let Some((_, exit)) = self.target_loop(b.label.as_ref()) {
                    if b.expr.is_some() && self.error.is_none() {
                        self.error = Some(Error::at(b.span(), "`break` with a value out of a loop that waits")
                            .help("assign the value to a local declared before the loop, then `break`"));
                    }
                    *expr = self.lowerer.goto(self.block, exit);
                }
            }
            Expr::Continue(c) => {
                if let Some((head, _)) = self.target_loop(c.label.as_ref()) {
                    *expr = self.lowerer.goto(self.block, head);
                }
            }
            Expr::Loop(l) => {
                self.inner_loops
                    .push(l.label.as_ref().map(|l| l.name.ident.to_string()));
                syn::visit_mut::visit_expr_loop_mut(self, l);
                self.inner_loops.pop();
            }
            Expr::While(w) => {
                self.visit_expr_mut(&mut w.cond);
                self.inner_loops
                    .push(w.label.as_ref().map(|l| l.name.ident.to_string()));
                self.visit_block_mut(&mut w.body);
                self.inner_loops.pop();
            }
            Expr::ForLoop(f) => {
                self.visit_expr_mut(&mut f.expr);
                self.inner_loops
                    .push(f.label.as_ref().map(|l| l.name.ident.to_string()));
                self.visit_block_mut(&mut f.body);
                self.inner_loops.pop();
            }
            _ => syn::visit_mut::visit_expr_mut(self, expr),
        }
    }
    fn visit_item_mut(&mut self, _: &mut Item) {}
}

/// Turns the placeholders into code, now that the payload of every block is known.
struct Render<'r, 'a> {
    lowerer: &'r Lowerer<'a>,
    live: &'r [BTreeSet<usize>],
    state_place: &'r TokenStream,
    ready: &'r TokenStream,
    target: Target,
}

impl Render<'_, '_> {
    fn replacement(&self, mac: &ExprMacro) -> Option<Expr> {
        let name = mac.mac.path.get_ident()?.to_string();
        let state_name =
            format_ident!("{}State", type_name(&self.lowerer.f.sig.ident));
        let place = self.state_place;
        let move_to = |to: usize, extra: TokenStream| -> TokenStream {
            let block = &self.lowerer.blocks[to];
            let v = &block.name;
            let fields: Vec<&Ident> = self.live[to]
                .iter()
                .map(|&d| &self.lowerer.decls[d].name)
                .collect();
            quote!(#place = #state_name::#v { #(#fields,)* #extra };)
        };
        match name.as_str() {
            GOTO => {
                let to: usize = mac
                    .mac
                    .parse_body::<syn::LitInt>()
                    .ok()?
                    .base10_parse()
                    .ok()?;
                let set = move_to(to, quote!());
                Some(parse_quote!({ #set continue 'machine; }))
            }
            WAIT => {
                let args = mac
                    .mac
                    .parse_body_with(syn::punctuated::Punctuated::<Expr, syn::Token![,]>::parse_terminated)
                    .ok()?;
                let mut args = args.into_iter();
                let Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Int(n),
                    ..
                }) = args.next()?
                else {
                    return None;
                };
                let to: usize = n.base10_parse().ok()?;
                let mut future = args.next()?;
                self_visit(self, &mut future);
                let awaited = format_ident!("{}", AWAITED);
                let make = match self.target {
                    Target::Std => quote!(let #awaited = Box::pin(#future);),
                    _ => quote!(let #awaited = #future;),
                };
                let set = move_to(to, quote!(#awaited));
                Some(parse_quote!({ #make #set continue 'machine; }))
            }
            RETURN => {
                let mut value: Expr = mac.mac.parse_body().ok()?;
                self_visit(self, &mut value);
                let ready = self.ready;
                Some(parse_quote!(return #ready(#value)))
            }
            _ => None,
        }
    }
}

fn self_visit(render: &Render<'_, '_>, expr: &mut Expr) {
    let mut inner = Render {
        lowerer: render.lowerer,
        live: render.live,
        state_place: render.state_place,
        ready: render.ready,
        target: render.target,
    };
    inner.visit_expr_mut(expr);
}

impl Render<'_, '_> {
    /// Renders a list of statements; a placeholder that stands as a statement
    /// of its own is spliced in as the statements it expands to.
    fn render_stmts(&mut self, stmts: Vec<Stmt>) -> Vec<Stmt> {
        let mut out = Vec::with_capacity(stmts.len());
        for stmt in stmts {
            let mac = match &stmt {
                Stmt::Macro(m) => Some(ExprMacro {
                    attrs: m.attrs.clone(),
                    mac: m.mac.clone(),
                }),
                Stmt::Expr(Expr::Macro(m), _) => Some(m.clone()),
                _ => None,
            };
            match mac.and_then(|m| self.replacement(&m)) {
                Some(Expr::Block(b)) => out.extend(b.block.stmts),
                Some(expr) => out.push(Stmt::Expr(expr, Some(Default::default()))),
                None => {
                    let mut stmt = stmt;
                    self.visit_stmt_mut(&mut stmt);
                    out.push(stmt);
                }
            }
        }
        out
    }
}

impl VisitMut for Render<'_, '_> {
    fn visit_block_mut(&mut self, block: &mut syn::Block) {
        let stmts = std::mem::take(&mut block.stmts);
        block.stmts = self.render_stmts(stmts);
    }
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        if let Expr::Macro(mac) = expr
            && let Some(replacement) = self.replacement(mac)
        {
            *expr = replacement;
            return;
        }
        syn::visit_mut::visit_expr_mut(self, expr);
    }
    fn visit_stmt_mut(&mut self, stmt: &mut Stmt) {
        if let Stmt::Macro(m) = stmt {
            let as_expr = ExprMacro {
                attrs: m.attrs.clone(),
                mac: m.mac.clone(),
            };
            if let Some(replacement) = self.replacement(&as_expr) {
                *stmt = Stmt::Expr(replacement, Some(Default::default()));
                return;
            }
        }
        syn::visit_mut::visit_stmt_mut(self, stmt);
    }
}
