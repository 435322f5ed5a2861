//! Jumps in the code that stays inline: a `return`, a `?`, or a `break` or
//! `continue` of a loop that was cut into blocks cannot stay as written, since
//! the code runs inside `poll`; each becomes a move of the machine.

use super::{Lowerer, Result, TryKind};
use crate::Error;
use crate::model::BlockId;
use crate::placeholder::Placeholder;
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{Expr, Item, Stmt, parse_quote};

impl Lowerer<'_> {
    pub(super) fn rewrite_jumps_in_stmt(
        &mut self,
        stmt: &mut Stmt,
        block: BlockId,
    ) -> Result<()> {
        let mut rewriter = Inline::new(self, block);
        rewriter.visit_stmt_mut(stmt);
        rewriter.finish()
    }

    pub(super) fn rewrite_jumps_in_expr(
        &mut self,
        expr: &mut Expr,
        block: BlockId,
    ) -> Result<()> {
        let mut rewriter = Inline::new(self, block);
        rewriter.visit_expr_mut(expr);
        rewriter.finish()
    }
}

/// Rewrites wait-free code that runs inside the poll function: `return`,
/// `?`, and `break`/`continue` of a lowered loop become moves of the machine.
struct Inline<'l, 'a> {
    lowerer: &'l mut Lowerer<'a>,
    block: BlockId,
    inner_loops: Vec<Option<String>>,
    error: Option<Error>,
}

impl<'l, 'a> Inline<'l, 'a> {
    fn new(lowerer: &'l mut Lowerer<'a>, block: BlockId) -> Self {
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
    fn target_loop(
        &self,
        label: Option<&syn::Lifetime>,
    ) -> Option<(BlockId, BlockId)> {
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
                *expr = Placeholder::Return(value).into_expr();
            }
            Expr::Try(t) => {
                self.visit_expr_mut(&mut t.expr);
                let inner = &t.expr;
                let bail = match self.lowerer.try_kind {
                    TryKind::Result => {
                        Placeholder::Return(parse_quote!(Err(From::from(error))))
                    }
                    TryKind::Option => Placeholder::Return(parse_quote!(None)),
                }
                .into_expr();
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
