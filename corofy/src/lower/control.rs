//! `if`, `match` and loops with a `.wait` inside: their conditions stay in
//! the current block, their bodies are lowered into blocks of their own.

use super::{Cont, LoopCtx, Lowerer, Result};
use crate::Error;
use crate::model::{BlockId, Role};
use crate::types::iterable_type;
use crate::waits::WaitFinder;
use quote::{format_ident, quote};
use syn::spanned::Spanned;
use syn::{Expr, Pat, Stmt, Type, parse_quote};

impl Lowerer<'_> {
    pub(super) fn lower_if(
        &mut self,
        e: &syn::ExprIf,
        block: BlockId,
        cont: Cont,
    ) -> Result<Vec<Stmt>> {
        let cond = &e.cond;
        self.note_refs(block, quote!(#cond));
        // `if let` bindings belong to the then-branch.
        self.scopes.push();
        if let Expr::Let(l) = &**cond {
            self.scopes.declare_pattern(&l.pat, None, None, block);
        }
        let mut cond = (**cond).clone();
        let then_code = self
            .rewrite_jumps_in_expr(&mut cond, block)
            .and_then(|()| self.lower_seq(&e.then_branch.stmts, block, cont));
        self.scopes.pop();
        let then_code = then_code?;
        let else_code = match &e.else_branch {
            Some((_, else_expr)) => match &**else_expr {
                Expr::Block(b) => self.lower_seq(&b.block.stmts, block, cont)?,
                other => {
                    self.lower_seq(&[Stmt::Expr(other.clone(), None)], block, cont)?
                }
            },
            None => self.cont_code(block, cont),
        };
        let expr: Expr = parse_quote! {
            if #cond { #(#then_code)* } else { #(#else_code)* }
        };
        Ok(vec![Stmt::Expr(expr, None)])
    }

    pub(super) fn lower_match(
        &mut self,
        e: &syn::ExprMatch,
        block: BlockId,
        cont: Cont,
    ) -> Result<Vec<Stmt>> {
        let scrutinee = &e.expr;
        self.note_refs(block, quote!(#scrutinee));
        let mut scrutinee = (**scrutinee).clone();
        self.rewrite_jumps_in_expr(&mut scrutinee, block)?;
        let mut arms = Vec::new();
        for arm in &e.arms {
            self.scopes.push();
            let code = self.lower_arm(arm, block, cont);
            self.scopes.pop();
            let code = code?;
            let pat = &arm.pat;
            let guard = arm.guard.as_ref().map(|(i, g)| quote!(#i #g));
            arms.push(quote!(#pat #guard => { #(#code)* }));
        }
        let expr: Expr = parse_quote!(match #scrutinee { #(#arms)* });
        Ok(vec![Stmt::Expr(expr, None)])
    }

    /// One arm of a `match`, in the scope of its pattern's bindings.
    fn lower_arm(
        &mut self,
        arm: &syn::Arm,
        block: BlockId,
        cont: Cont,
    ) -> Result<Vec<Stmt>> {
        self.scopes.declare_pattern(&arm.pat, None, None, block);
        if let Some((_, guard)) = &arm.guard {
            if let Some(span) = WaitFinder::of_expr(guard)?.first() {
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
        self.lower_seq(&stmts, block, cont)
    }

    pub(super) fn lower_loop(
        &mut self,
        label: Option<String>,
        body: &[Stmt],
        block: BlockId,
        exit: BlockId,
    ) -> Result<Vec<Stmt>> {
        let head = self.new_block(Role::LoopHead);
        self.loops.push(LoopCtx { label, head, exit });
        let code = self.lower_seq(body, head, Cont::Goto(head));
        self.loops.pop();
        self.blocks[head.0].code = code?;
        Ok(vec![Stmt::Expr(
            self.goto(block, head),
            Some(Default::default()),
        )])
    }

    /// `for p in items { .. }` with a wait inside becomes an explicit iterator
    /// local (which needs a type) and a `loop` over `Iterator::next`.
    pub(super) fn desugar_for(
        &mut self,
        e: &syn::ExprForLoop,
        semi: Option<syn::Token![;]>,
    ) -> Result<Vec<Stmt>> {
        let items = &e.expr;
        let local_type = |name: &str| self.scopes.type_of(name).flatten();
        let Some(items_ty) = iterable_type(items, local_type) else {
            return Err(Error::at(items.span(), "corofy cannot tell the type of what this `for` loop iterates over")
                .help("the iterator is kept across the loop's `.wait`, so it needs a type: bind what \
                       you iterate over to a local with a type first (`let items: Vec<String> = ...; \
                       for item in items {`), or give a range a typed bound (`0..n` with `n: u32`, or `0..3u32`)"));
        };
        self.iterators += 1;
        let iter = format_ident!("__iter{}", self.iterators);
        let (pat, label, body) = (&e.pat, &e.label, &e.body);
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
}
