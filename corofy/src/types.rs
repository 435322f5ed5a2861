//! Types corofy can tell without a type checker: those written in the source,
//! those of the other coroutines in the file, and a few shapes of expression
//! whose type is spelled in them (`Type::new(..)`, `Type(..)`, typed ranges).

use crate::Target;
use crate::model::Awaited;
use quote::format_ident;
use std::collections::HashMap;
use syn::ext::IdentExt;
use syn::visit::Visit;
use syn::{Expr, Ident, ItemFn, ReturnType, Type, parse_quote};

/// What a coroutine of the file looks like to the others that wait on it.
#[derive(Debug, Clone)]
struct CoroutineInfo {
    type_name: Ident,
    output: Type,
    generic: bool,
}

/// The coroutines of the file, by name.
#[derive(Debug, Default)]
pub(crate) struct Known(HashMap<String, CoroutineInfo>);

impl Known {
    pub fn of<'a>(coroutines: impl IntoIterator<Item = &'a ItemFn>) -> Known {
        Known(
            coroutines
                .into_iter()
                .map(|f| {
                    let info = CoroutineInfo {
                        type_name: type_name(&f.sig.ident),
                        output: output_type(&f.sig.output),
                        generic: !f.sig.generics.params.is_empty(),
                    };
                    (f.sig.ident.to_string(), info)
                })
                .collect(),
        )
    }
}

/// The machine type's name: `fetch_both` -> `FetchBoth`, `r#type` -> `Type`.
/// (`names::check` has made sure it is an identifier.)
pub(crate) fn type_name(ident: &Ident) -> Ident {
    format_ident!("{}", type_name_text(ident), span = ident.span())
}

/// The text of [`type_name`], which may not be an identifier (`_1` -> `1`).
pub(crate) fn type_name_text(ident: &Ident) -> String {
    let mut name = String::new();
    for part in ident
        .unraw()
        .to_string()
        .split('_')
        .filter(|p| !p.is_empty())
    {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            name.extend(first.to_uppercase());
            name.push_str(chars.as_str());
        }
    }
    name
}

/// A function's output type, `()` when it has none.
pub(crate) fn output_type(output: &ReturnType) -> Type {
    match output {
        ReturnType::Default => parse_quote!(()),
        ReturnType::Type(_, ty) => (**ty).clone(),
    }
}

/// What `value?` gives for a `value: ty`. `Result<T, E>`, `io::Result<T>` and
/// `Option<T>` give `T`. For a type corofy only knows as a projection (the
/// `Output` of a future), the `T` is named through `IntoIterator`, which both
/// `Result<T, E>` and `Option<T>` implement with `Item = T`.
pub(crate) fn ok_type(ty: &Type) -> Option<Type> {
    match ty {
        Type::Path(path) if path.qself.is_some() => {
            Some(parse_quote!(<#ty as ::std::iter::IntoIterator>::Item))
        }
        Type::Path(path) => {
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
        _ => None,
    }
}

/// Whether a type is written out in full: no `_` and no `impl Trait` in it,
/// so that it can be a field's type.
pub(crate) fn is_written_out(ty: &Type) -> bool {
    struct Find(bool);
    impl<'a> Visit<'a> for Find {
        fn visit_type(&mut self, ty: &'a Type) {
            if matches!(ty, Type::Infer(_) | Type::ImplTrait(_)) {
                self.0 = false;
            }
            syn::visit::visit_type(self, ty);
        }
    }
    let mut f = Find(true);
    f.visit_type(ty);
    f.0
}

/// Whether a type holds a reference whose lifetime is not named.
pub(crate) fn has_anonymous_reference(ty: &Type) -> bool {
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

/// The target's `Future` trait, as a path.
pub(crate) fn future_trait(target: Target) -> Type {
    match target {
        Target::Std => parse_quote!(::std::future::Future),
        Target::Own | Target::Waker => parse_quote!(Future),
    }
}

/// `<ty as Future>::Output`.
fn projection(ty: &Type, target: Target) -> Type {
    let future = future_trait(target);
    parse_quote!(<#ty as #future>::Output)
}

/// What corofy can say about the future a `.wait` waits on.
#[derive(Debug)]
pub(crate) enum FutureType {
    /// Its type, and so the type of its output.
    Named(Box<Awaited>),
    /// Its type cannot be named; the error explains, for when the future
    /// cannot be boxed instead either.
    Unnamed(crate::Error),
}

/// The future's type, for the futures whose type is written in the
/// expression that makes them: a coroutine of this file, `Type::new(..)`, a
/// tuple struct `Type(..)`, or a local whose type `local_type` knows.
pub(crate) fn future_type(
    receiver: &Expr,
    target: Target,
    known: &Known,
    local_type: impl Fn(&str) -> Option<Option<Type>>,
) -> Result<FutureType, crate::Error> {
    use syn::spanned::Spanned;
    let named = |ty: Type| {
        let output = projection(&ty, target);
        FutureType::Named(Box::new(Awaited {
            future: Some(ty),
            output: Some(output),
        }))
    };
    match receiver {
        Expr::Call(call) => {
            if let Expr::Path(p) = &*call.func {
                let segments = &p.path.segments;
                if segments.len() == 1
                    && let Some(info) = known.0.get(&segments[0].ident.to_string())
                {
                    if info.generic {
                        return Err(crate::Error::at(
                            call.span(),
                            "waiting on a generic coroutine",
                        )
                        .help(
                            "bind it to a local with its full type first: \
                             `let fut: Name<T> = name(...); fut.wait`",
                        ));
                    }
                    let ty = &info.type_name;
                    return Ok(FutureType::Named(Box::new(Awaited {
                        future: Some(parse_quote!(#ty)),
                        output: Some(info.output.clone()),
                    })));
                }
                // A tuple struct's constructor: `Name(..)` or `module::Name(..)`.
                let upper = |i: &Ident| {
                    i.to_string().starts_with(|c: char| c.is_ascii_uppercase())
                };
                let n = segments.len();
                if upper(&segments[n - 1].ident)
                    && (n == 1 || !upper(&segments[n - 2].ident))
                {
                    return Ok(named(parse_quote!(#p)));
                }
                if n >= 2 && segments[n - 1].ident == "new" {
                    let mut path = p.path.clone();
                    path.segments.pop();
                    let path = syn::Path {
                        leading_colon: path.leading_colon,
                        segments: path
                            .segments
                            .into_pairs()
                            .map(syn::punctuated::Pair::into_value)
                            .collect(),
                    };
                    return Ok(named(parse_quote!(#path)));
                }
            }
        }
        Expr::Path(p) if p.path.get_ident().is_some() => {
            let name = p.path.segments[0].ident.to_string();
            if let Some(ty) = local_type(&name) {
                return Ok(match ty {
                    Some(ty) => named(ty),
                    None => FutureType::Unnamed(
                        crate::Error::at(
                            receiver.span(),
                            format!("corofy cannot tell the type of the future `{name}`"),
                        )
                        .help(format!(
                            "write the type of the value the wait gives \
                             (`let value: Type = {name}.wait;`) and corofy stores the \
                             future boxed, or give `{name}` a type where it is \
                             declared: `let {name}: TheFuture = ...;`"
                        )),
                    ),
                });
            }
        }
        _ => {}
    }
    Ok(FutureType::Unnamed(
        crate::Error::at(
            receiver.span(),
            "corofy cannot tell the type of the future this `.wait` waits on",
        )
        .help(
            "the state machine has to store the future, so it needs its type or the \
             type of what it gives. Write the value's type (`let body: String = \
             future.wait;`) and corofy stores the future boxed, as a trait object; \
             or bind the future to a local with a type first (`let fut: TheFuture = \
             ...; let value = fut.wait;`). corofy also knows `Type::new(..)` calls, \
             tuple structs `Type(..)` and the coroutines in this file",
        ),
    ))
}

/// The type of what a `for` loop iterates over, if corofy can tell: a typed
/// local, or a range with a typed bound. `local_type` gives a local's type.
pub(crate) fn iterable_type(
    items: &Expr,
    local_type: impl Fn(&str) -> Option<Type>,
) -> Option<Type> {
    match items {
        Expr::Path(p) => local_type(&p.path.get_ident()?.to_string()),
        Expr::Range(r) => {
            let typed = |bound: &Option<Box<Expr>>| -> Option<Type> {
                match bound.as_deref()? {
                    Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Int(i),
                        ..
                    }) if !i.suffix().is_empty() => syn::parse_str(i.suffix()).ok(),
                    Expr::Path(p) => local_type(&p.path.get_ident()?.to_string()),
                    _ => None,
                }
            };
            let int = typed(&r.start).or_else(|| typed(&r.end))?;
            Some(match r.limits {
                syn::RangeLimits::HalfOpen(_) => {
                    parse_quote!(::std::ops::Range<#int>)
                }
                syn::RangeLimits::Closed(_) => {
                    parse_quote!(::std::ops::RangeInclusive<#int>)
                }
            })
        }
        _ => None,
    }
}
