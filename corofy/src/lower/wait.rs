//! A statement with a `.wait`: the wait starts at the end of the current
//! block, and the statement runs, with the wait's output in place of the
//! `.wait`, at the start of the next one.

use super::{Cont, Lowerer, Result};
use crate::Error;
use crate::model::{Awaited, BlockId, Role};
use crate::placeholder::{OUT, Placeholder};
use crate::types::{FutureType, future_type, is_written_out, ok_type};
use crate::waits::{WaitFinder, take_leftmost_wait};
use proc_macro2::Span;
use quote::quote;
use syn::{Expr, Pat, Stmt, Type};

/// Whether `expr` is the wait's output itself (`__out`).
fn is_out(expr: &Expr) -> bool {
    matches!(expr, Expr::Path(p) if p.path.is_ident(OUT))
}

impl Lowerer<'_> {
    /// A statement whose (single) wait comes first: start the wait here, and
    /// run the statement with the result in the next block.
    pub(super) fn wait_site(
        &mut self,
        stmt: &Stmt,
        rest: &[Stmt],
        block: BlockId,
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
        let Some(mut receiver) = receiver else {
            return Err(Error::at(waits[0], "this `.wait` is not the first thing its statement does")
                .help("corofy keeps Rust's order of evaluation by waiting before the rest of \
                       the statement runs; bind the waited value to a local first: \
                       `let value = future.wait;`"));
        };
        check_single_wait(&template, &receiver, waits[0])?;
        let is_tail = rest.is_empty() && matches!(cont, Cont::Return);
        let awaited = self.awaited(&receiver, &template, is_tail)?;
        self.rewrite_jumps_in_expr(&mut receiver, block)?;
        let resume = self.new_block(Role::Waiting);
        let out_ty = awaited.output.clone();
        self.blocks[resume.0].awaited = Some(awaited);
        self.note_refs(block, quote!(#receiver));
        self.blocks[block.0].succs.insert(resume);
        let here = vec![
            Placeholder::Wait {
                resume,
                future: receiver,
            }
            .into_stmt(),
        ];

        let unwritten = match &mut template {
            Stmt::Local(local) => give_type(local, out_ty),
            _ => None,
        };
        let declared_before = self.scopes.count();
        let mut stmts = vec![template];
        stmts.extend_from_slice(rest);
        self.blocks[resume.0].code = self.lower_stmts(&stmts, resume, cont)?;
        if let Some(ty) = unwritten {
            // The statement's binding is the first local the resume block declares.
            self.scopes.set_unknown_type(declared_before, ty);
        }
        Ok(here)
    }

    /// The future the wait stores, and what it gives. A future whose type
    /// cannot be named is boxed as a trait object when the type of what it
    /// gives is known from where its value goes (a typed `let`, an assignment
    /// to a typed local, the coroutine's result).
    fn awaited(
        &mut self,
        receiver: &Expr,
        template: &Stmt,
        is_tail: bool,
    ) -> Result<Awaited> {
        let named = future_type(receiver, self.target, self.known, |name| {
            self.scopes.type_of(name)
        })?;
        let refusal = match named {
            FutureType::Named(awaited) => return Ok(*awaited),
            FutureType::Unnamed(refusal) => refusal,
        };
        let Some((output, why)) = self
            .destination_type(template, is_tail)
            .filter(|(ty, _)| is_written_out(ty))
        else {
            return Err(refusal);
        };
        let (line, future) = (refusal.line, short_name(receiver));
        let printed = prettyplease::unparse(&syn::parse_quote!(type T = #output;));
        let printed = printed
            .trim()
            .trim_start_matches("type T = ")
            .trim_end_matches(';');
        self.notes.push(format!(
            "The future of `{future}` (line {line}) is stored boxed, as a \
             `dyn Future<Output = {printed}>`: its type cannot be named here, but {why}."
        ));
        Ok(Awaited {
            future: None,
            output: Some(output),
        })
    }

    /// The type the wait's output must have, from where it goes, and how
    /// corofy knows it.
    fn destination_type(
        &self,
        template: &Stmt,
        is_tail: bool,
    ) -> Option<(Type, &'static str)> {
        match template {
            Stmt::Local(local) => match (&local.pat, &local.init) {
                (Pat::Type(typed), Some(init)) if is_out(&init.expr) => Some((
                    (*typed.ty).clone(),
                    "the local it is bound to has a written type",
                )),
                _ => None,
            },
            Stmt::Expr(Expr::Return(r), _)
                if r.expr.as_deref().is_some_and(is_out) =>
            {
                Some((self.output.clone(), "it is the coroutine's return value"))
            }
            Stmt::Expr(expr, None) if is_tail && is_out(expr) => {
                Some((self.output.clone(), "it is the coroutine's result"))
            }
            Stmt::Expr(Expr::Assign(a), _) if is_out(&a.right) => {
                let Expr::Path(p) = &*a.left else { return None };
                let ty =
                    self.scopes.type_of(&p.path.get_ident()?.to_string())??;
                Some((ty, "it is assigned to a local with a written type"))
            }
            _ => None,
        }
    }
}

/// How a person would refer to a future in prose: `Http::get(..)`.
fn short_name(receiver: &Expr) -> String {
    let path = |p: &syn::Path| {
        let segments: Vec<String> =
            p.segments.iter().map(|s| s.ident.to_string()).collect();
        segments.join("::")
    };
    match receiver {
        Expr::Call(call) => match &*call.func {
            Expr::Path(p) => format!("{}(..)", path(&p.path)),
            _ => "the call".to_string(),
        },
        Expr::MethodCall(m) => format!("..{}(..)", m.method),
        Expr::Path(p) => path(&p.path),
        _ => "the expression".to_string(),
    }
}

/// Any other wait in the statement must be inside a block that the template
/// lowers in its turn (the branches of an `if`, say), and the future waited
/// on cannot come from a wait itself.
fn check_single_wait(template: &Stmt, receiver: &Expr, first: Span) -> Result<()> {
    let header_waits = match template {
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
        return Err(
            Error::at(*second, "a second `.wait` in the same expression").help(
                "wait once per statement: bind each waited value to a local first",
            ),
        );
    }
    if !WaitFinder::of_expr(receiver)?.is_empty() {
        return Err(Error::at(
            first,
            "waiting on a future that itself comes from a `.wait`",
        )
        .help("bind the first result to a local, then wait on it"));
    }
    Ok(())
}

/// `let x = fut.wait;` gets the future's output type, and `let x = fut.wait?;`
/// the type inside its `Result` or `Option`, so that `x` can be stored. The
/// type is written into the `let`, except the `T` of a `?` on a future's
/// `Output` projection (`<<F as Future>::Output as IntoIterator>::Item`),
/// which is returned instead, for the local's declaration only: Rust infers
/// it in the `let`, and the page reads better without it.
fn give_type(local: &mut syn::Local, output: Option<Type>) -> Option<Type> {
    if matches!(local.pat, Pat::Type(_)) {
        return None;
    }
    let init = local.init.as_ref()?;
    let ty = match &*init.expr {
        expr if is_out(expr) => output?,
        Expr::Try(t) if is_out(&t.expr) => {
            let output = output?;
            let ty = ok_type(&output)?;
            if matches!(&output, Type::Path(p) if p.qself.is_some()) {
                // Only a plain name is declared first, where it is looked for.
                return matches!(local.pat, Pat::Ident(_)).then_some(ty);
            }
            ty
        }
        _ => return None,
    };
    local.pat = Pat::Type(syn::PatType {
        attrs: Vec::new(),
        pat: Box::new(local.pat.clone()),
        colon_token: Default::default(),
        ty: Box::new(ty),
    });
    None
}
