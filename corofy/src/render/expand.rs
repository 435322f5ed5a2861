//! Expands the placeholders in a block's code into moves of the machine, now
//! that the fields of every state are known.

use super::awaited_field_type;
use crate::liveness::Liveness;
use crate::model::Machine;
use crate::placeholder::{AWAITED, Placeholder};
use crate::{Error, Target};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::visit_mut::VisitMut;
use syn::{Expr, ExprMacro, Ident, Stmt, parse_quote};

pub(super) struct Expand<'r> {
    pub machine: &'r Machine,
    pub live: &'r Liveness,
    pub state_name: &'r Ident,
    /// `self.state`, or `this.state` for the std target.
    pub state_place: &'r TokenStream,
    /// `PollState::Ready` or `Poll::Ready`.
    pub ready: &'r TokenStream,
    pub error: Option<Error>,
}

impl Expand<'_> {
    /// What a placeholder becomes; `None` for any other macro call.
    fn replacement(&mut self, mac: &syn::Macro) -> Option<Expr> {
        let placeholder = match Placeholder::read(mac)? {
            Ok(p) => p,
            Err(e) => {
                self.error.get_or_insert(e);
                return None;
            }
        };
        let (place, state_name) = (self.state_place, self.state_name);
        let move_to =
            |to: crate::model::BlockId, extra: TokenStream| -> TokenStream {
                let variant = &self.machine.block(to).name;
                let fields = self
                    .live
                    .fields(to)
                    .iter()
                    .map(|&d| &self.machine.local(d).name);
                quote!(#place = #state_name::#variant { #(#fields,)* #extra };)
            };
        Some(match placeholder {
            Placeholder::Goto(to) => {
                let set = move_to(to, quote!());
                parse_quote!({ #set continue 'machine; })
            }
            Placeholder::Wait { resume, mut future } => {
                self.visit_expr_mut(&mut future);
                let awaited = format_ident!("{AWAITED}");
                let make = match &self.machine.block(resume).awaited {
                    Some(a) if a.future.is_none() => {
                        let ty = awaited_field_type(a, self.machine.target);
                        match self.machine.target {
                            Target::Std => {
                                quote!(let #awaited: #ty = Box::pin(#future);)
                            }
                            Target::Own | Target::Waker => {
                                quote!(let #awaited: #ty = Box::new(#future);)
                            }
                        }
                    }
                    _ => match self.machine.target {
                        Target::Std => quote!(let #awaited = Box::pin(#future);),
                        Target::Own | Target::Waker => {
                            quote!(let #awaited = #future;)
                        }
                    },
                };
                let set = move_to(resume, quote!(#awaited));
                parse_quote!({ #make #set continue 'machine; })
            }
            Placeholder::Return(mut value) => {
                self.visit_expr_mut(&mut value);
                let ready = self.ready;
                parse_quote!(return #ready(#value))
            }
        })
    }

    /// Expands a list of statements; a placeholder that stands as a statement
    /// of its own is spliced in as the statements it expands to.
    pub fn stmts(&mut self, stmts: Vec<Stmt>) -> Vec<Stmt> {
        let mut out = Vec::with_capacity(stmts.len());
        for stmt in stmts {
            let mac = match &stmt {
                Stmt::Macro(m) => Some(&m.mac),
                Stmt::Expr(Expr::Macro(m), _) => Some(&m.mac),
                _ => None,
            };
            match mac.cloned().and_then(|m| self.replacement(&m)) {
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

impl VisitMut for Expand<'_> {
    fn visit_block_mut(&mut self, block: &mut syn::Block) {
        let stmts = std::mem::take(&mut block.stmts);
        block.stmts = self.stmts(stmts);
    }

    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        if let Expr::Macro(ExprMacro { mac, .. }) = expr
            && let Some(replacement) = self.replacement(&mac.clone())
        {
            *expr = replacement;
            return;
        }
        syn::visit_mut::visit_expr_mut(self, expr);
    }

    fn visit_stmt_mut(&mut self, stmt: &mut Stmt) {
        if let Stmt::Macro(m) = stmt
            && let Some(replacement) = self.replacement(&m.mac.clone())
        {
            *stmt = Stmt::Expr(replacement, Some(Default::default()));
            return;
        }
        syn::visit_mut::visit_stmt_mut(self, stmt);
    }
}
