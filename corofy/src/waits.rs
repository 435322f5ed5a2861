//! Finding the `.wait` points in a coroutine, refusing the ones in places a
//! state machine cannot reach (closures, macros, nested functions), and taking
//! out the one a statement runs first.

use crate::Error;
use crate::placeholder::OUT;
use proc_macro2::{Span, TokenTree};
use quote::format_ident;
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::{Expr, Item, Stmt, parse_quote};

type Result<T> = std::result::Result<T, Error>;

pub(crate) fn is_wait(expr: &Expr) -> bool {
    matches!(expr, Expr::Field(f) if matches!(&f.member, syn::Member::Named(m) if m == "wait"))
}

/// Collects the `.wait` points in a piece of syntax and notes the ones in
/// places corofy cannot lower (closures, async blocks, nested functions and
/// macro invocations).
#[derive(Default)]
pub(crate) struct WaitFinder {
    pub waits: Vec<Span>,
    misplaced: Option<Error>,
    depth_closure: usize,
}

impl WaitFinder {
    pub fn of_expr(expr: &Expr) -> Result<Vec<Span>> {
        let mut f = WaitFinder::default();
        f.visit_expr(expr);
        f.result()
    }
    pub fn of_stmt(stmt: &Stmt) -> Result<Vec<Span>> {
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

pub(crate) fn has_wait(expr: &Expr) -> bool {
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
pub(crate) fn take_leftmost_wait(expr: &mut Expr) -> Option<Expr> {
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
