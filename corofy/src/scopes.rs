//! The locals of a coroutine and the scopes they are visible in: declaring
//! them, resolving a name to the local it means at that point, and finding
//! which locals a piece of code mentions.

use crate::model::{BlockId, Local, LocalId};
use proc_macro2::{Span, TokenStream, TokenTree};
use std::collections::BTreeSet;
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::{Expr, Pat, Type};

/// Methods that return a borrow of their receiver.
const BORROWING_METHODS: [&str; 10] = [
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
];

#[derive(Debug)]
pub(crate) struct Scopes {
    locals: Vec<Local>,
    stack: Vec<Vec<LocalId>>,
}

impl Scopes {
    pub fn new() -> Scopes {
        Scopes {
            locals: Vec::new(),
            stack: vec![Vec::new()],
        }
    }

    pub fn into_locals(self) -> Vec<Local> {
        self.locals
    }

    /// Opens a scope: what is declared until [`Scopes::pop`] is not visible
    /// after it.
    pub fn push(&mut self) {
        self.stack.push(Vec::new());
    }

    pub fn pop(&mut self) {
        self.stack.pop();
    }

    /// How many locals have been declared so far.
    pub fn count(&self) -> usize {
        self.locals.len()
    }

    /// Gives the local at position `index` a type, if it has none yet.
    pub fn set_unknown_type(&mut self, index: usize, ty: Type) {
        if let Some(local) = self.locals.get_mut(index) {
            local.ty.get_or_insert(ty);
        }
    }

    pub fn declare(&mut self, local: Local) -> LocalId {
        self.locals.push(local);
        let id = LocalId(self.locals.len() - 1);
        if let Some(scope) = self.stack.last_mut() {
            scope.push(id);
        }
        id
    }

    /// The local `name` means here.
    pub fn resolve(&self, name: &str) -> Option<LocalId> {
        self.stack
            .iter()
            .rev()
            .flat_map(|s| s.iter().rev())
            .copied()
            .find(|&id| self.locals[id.0].name == name)
    }

    /// The type of the local `name` means here: `None` if there is no such
    /// local, `Some(None)` if its type is not known.
    pub fn type_of(&self, name: &str) -> Option<Option<Type>> {
        self.resolve(name).map(|id| self.locals[id.0].ty.clone())
    }

    /// Declares the bindings of a `let` (its pattern, with the type written
    /// there, if any), noting a borrow of another local in its initialiser.
    /// `args` are the coroutine's arguments: a reference argument is not a
    /// local the machine owns, so borrowing through it is fine.
    pub fn declare_let(
        &mut self,
        local: &syn::Local,
        block: BlockId,
        args: &[LocalId],
    ) {
        let init = local.init.as_ref().map(|i| &*i.expr);
        let (pat, ty) = match &local.pat {
            Pat::Type(pt) => (&*pt.pat, Some((*pt.ty).clone())),
            other => (other, None),
        };
        let borrow = init.and_then(|e| self.borrowed_local(e, args));
        self.declare_pattern(pat, ty, borrow, block);
    }

    /// `&x`, `&mut x`, `&x[..]`, `x.as_str()`, ... where `x` is a local.
    fn borrowed_local(&self, expr: &Expr, args: &[LocalId]) -> Option<Span> {
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
                                !args.contains(&id)
                                    || !matches!(
                                        self.locals[id.0].ty,
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
                    && BORROWING_METHODS
                        .contains(&m.method.to_string().as_str()) =>
            {
                Some(m.span())
            }
            Expr::Paren(p) => self.borrowed_local(&p.expr, args),
            _ => None,
        }
    }

    /// Declares every binding of a pattern. A plain `name` (or `name: Type`)
    /// gets the type written for it, and so does each part of a tuple
    /// written with a tuple type (`let (a, b): (u32, String)`); any other
    /// destructured binding's type is unknown.
    pub fn declare_pattern(
        &mut self,
        pat: &Pat,
        ty: Option<Type>,
        borrow: Option<Span>,
        block: BlockId,
    ) {
        match pat {
            Pat::Ident(p) => {
                let borrow = borrow.or(p.by_ref.map(|r| r.span));
                self.declare_binding(p, ty, borrow, block);
                if let Some((_, sub)) = &p.subpat {
                    self.declare_pattern(sub, None, borrow, block);
                }
            }
            Pat::Type(pt) => {
                self.declare_pattern(&pt.pat, Some((*pt.ty).clone()), borrow, block)
            }
            Pat::Paren(p) => self.declare_pattern(&p.pat, ty, borrow, block),
            Pat::Tuple(tuple) => match ty {
                Some(Type::Tuple(types))
                    if types.elems.len() == tuple.elems.len()
                        && !tuple
                            .elems
                            .iter()
                            .any(|p| matches!(p, Pat::Rest(_))) =>
                {
                    for (part, ty) in tuple.elems.iter().zip(types.elems) {
                        self.declare_pattern(part, Some(ty), borrow, block);
                    }
                }
                _ => self.declare_untyped(pat, borrow, block),
            },
            other => self.declare_untyped(other, borrow, block),
        }
    }

    /// Declares every binding of `pat`, with no type.
    fn declare_untyped(&mut self, pat: &Pat, borrow: Option<Span>, block: BlockId) {
        struct Bindings<'b>(Vec<&'b syn::PatIdent>);
        impl<'b> Visit<'b> for Bindings<'b> {
            fn visit_pat_ident(&mut self, p: &'b syn::PatIdent) {
                self.0.push(p);
                syn::visit::visit_pat_ident(self, p);
            }
        }
        let mut found = Bindings(Vec::new());
        found.visit_pat(pat);
        for p in found.0 {
            let borrow = borrow.or(p.by_ref.map(|r| r.span));
            self.declare_binding(p, None, borrow, block);
        }
    }

    fn declare_binding(
        &mut self,
        p: &syn::PatIdent,
        ty: Option<Type>,
        borrow: Option<Span>,
        block: BlockId,
    ) -> LocalId {
        self.declare(Local {
            name: p.ident.clone(),
            ty,
            mutable: p.mutability.is_some(),
            borrow,
            block,
        })
    }

    /// Adds to `refs` every local the tokens mention. Identifiers after `.`
    /// or before `::`/`!` are not locals; `{name}` in a string literal is
    /// (format strings capture locals by name).
    pub fn refs_in(&self, tokens: TokenStream, refs: &mut BTreeSet<LocalId>) {
        let tokens: Vec<TokenTree> = tokens.into_iter().collect();
        let is_dot = |j: usize| matches!(tokens.get(j), Some(TokenTree::Punct(p)) if p.as_char() == '.');
        for (i, token) in tokens.iter().enumerate() {
            match token {
                TokenTree::Ident(ident) => {
                    // `x.name` is a member, but `0..name` is a range ending in a local.
                    let after_dot =
                        i > 0 && is_dot(i - 1) && !(i > 1 && is_dot(i - 2));
                    let before_path_or_bang = matches!(tokens.get(i + 1),
                        Some(TokenTree::Punct(p)) if p.as_char() == '!'
                            || (p.as_char() == ':' && p.spacing() == proc_macro2::Spacing::Joint));
                    if !after_dot
                        && !before_path_or_bang
                        && let Some(id) = self.resolve(&ident.to_string())
                    {
                        refs.insert(id);
                    }
                }
                TokenTree::Literal(lit) => {
                    let text = lit.to_string();
                    if text.starts_with('"') || text.starts_with('r') {
                        refs.extend(
                            format_captures(&text)
                                .iter()
                                .filter_map(|n| self.resolve(n)),
                        );
                    }
                }
                TokenTree::Group(group) => self.refs_in(group.stream(), refs),
                TokenTree::Punct(_) => {}
            }
        }
    }
}

/// `{name}` captures in a format string literal.
fn format_captures(literal: &str) -> Vec<String> {
    let chars: Vec<char> = literal.chars().collect();
    let mut names = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '{' {
            i += 1;
            continue;
        }
        if chars.get(i + 1) == Some(&'{') {
            i += 2;
            continue;
        }
        let mut j = i + 1;
        while j < chars.len() && (chars[j].is_alphanumeric() || chars[j] == '_') {
            j += 1;
        }
        if j > i + 1 && matches!(chars.get(j), Some('}' | ':')) {
            let name: String = chars[i + 1..j].iter().collect();
            if !name.starts_with(|c: char| c.is_ascii_digit()) {
                names.push(name);
            }
        }
        i = j;
    }
    names
}
