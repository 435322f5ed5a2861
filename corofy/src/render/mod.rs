//! Rendering: a [`Machine`] becomes Rust items. The function keeps the
//! coroutine's name and signature and returns the machine; the machine is a
//! struct holding a state enum with a variant per block; its `poll` is a
//! loop over a `match` on the state, one arm per block.

mod expand;

use crate::Error;
use crate::Target;
use crate::liveness::Liveness;
use crate::model::{Awaited, Machine};
use crate::placeholder::{AWAITED, OUT};
use crate::types::{future_trait, type_name};
use expand::Expand;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{FnArg, Ident, Pat};

/// The type of the field that holds an awaited future: the future itself, or
/// a box of it (pinned for the std target, which polls through `Pin`).
fn awaited_field_type(awaited: &Awaited, target: Target) -> TokenStream {
    let future = match (&awaited.future, &awaited.output) {
        (Some(ty), _) => quote!(#ty),
        (None, Some(output)) => {
            let trait_path = future_trait(target);
            quote!(dyn #trait_path<Output = #output>)
        }
        (None, None) => quote!(()), // lowering never makes this
    };
    match (target, &awaited.future) {
        (Target::Std, _) => quote!(::std::pin::Pin<Box<#future>>),
        (Target::Own | Target::Waker, Some(_)) => future,
        (Target::Own | Target::Waker, None) => quote!(Box<#future>),
    }
}

/// The target's names for "ready", "not ready", and polling the awaited future.
fn poll_words(target: Target) -> [TokenStream; 3] {
    let awaited = format_ident!("{AWAITED}");
    match target {
        Target::Own => [
            quote!(PollState::Ready),
            quote!(PollState::NotReady),
            quote!(#awaited.poll()),
        ],
        Target::Waker => [
            quote!(PollState::Ready),
            quote!(PollState::NotReady),
            quote!(#awaited.poll(waker)),
        ],
        Target::Std => [
            quote!(::std::task::Poll::Ready),
            quote!(::std::task::Poll::Pending),
            quote!(#awaited.as_mut().poll(cx)),
        ],
    }
}

pub(crate) fn render(
    machine: &Machine,
    live: &Liveness,
) -> Result<syn::File, Error> {
    let f = &machine.func;
    let name = &f.sig.ident;
    let ty_name = type_name(name);
    let state_name = format_ident!("{}State", ty_name);
    let generics = &f.sig.generics;
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let [done_variant, done_value, done_pat] = done_state(machine, &state_name);
    let field_name = |d| &machine.local(d).name;
    let awaited = format_ident!("{AWAITED}");

    let reachable = || machine.block_ids().filter(|&b| machine.block(b).reachable);
    let variants = reachable().map(|b| {
        let block = machine.block(b);
        let vname = &block.name;
        let mut fields: Vec<TokenStream> = live
            .fields(b)
            .iter()
            .map(|&d| {
                let (n, t) = (field_name(d), &machine.local(d).ty);
                quote!(#n: #t)
            })
            .collect();
        if let Some(a) = &block.awaited {
            let ty = awaited_field_type(a, machine.target);
            fields.push(quote!(#awaited: #ty));
        }
        quote!(#vname { #(#fields),* })
    });
    let variants: Vec<TokenStream> = variants.collect();

    let state_place = match machine.target {
        Target::Std => quote!(this.state),
        Target::Own | Target::Waker => quote!(self.state),
    };
    let [ready, not_ready, poll_inner] = poll_words(machine.target);
    let out = format_ident!("{OUT}");
    let mut expand = Expand {
        machine,
        live,
        state_name: &state_name,
        state_place: &state_place,
        ready: &ready,
        error: None,
    };
    let mut arms = Vec::new();
    for b in reachable() {
        let block = machine.block(b);
        let vname = &block.name;
        let bound = live.fields(b);
        let mut pats: Vec<TokenStream> = bound
            .iter()
            .map(|&d| {
                let n = field_name(d);
                if machine.local(d).mutable {
                    quote!(mut #n)
                } else {
                    quote!(#n)
                }
            })
            .collect();
        let plain: Vec<&Ident> = bound.iter().map(|&d| field_name(d)).collect();
        let code = expand.stmts(block.code.clone());
        if block.awaited.is_some() {
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
            arms.push(quote!(#state_name::#vname { #(#pats),* } => { #(#code)* }));
        }
    }
    if let Some(e) = expand.error {
        return Err(e);
    }
    let done_msg = format!("`{name}` was polled after it completed");
    let label = (machine.blocks.len() > 1).then(|| quote!('machine:));
    let body = quote! {
        #label loop {
            match ::std::mem::replace(&mut #state_place, #done_value) {
                #(#arms)*
                #done_pat => panic!(#done_msg),
            }
        }
    };
    let poll_fn = poll_fn(machine.target, &body);
    let future_trait = future_trait(machine.target);
    let unpin = (machine.target == Target::Std).then(|| {
        let doc = format!(
            " `{ty_name}` never pins its fields in place: every future it waits on \
             is pinned in a `Box` of its own, so moving the machine is harmless."
        );
        quote! {
            #[doc = #doc]
            impl #impl_generics Unpin for #ty_name #ty_generics #where_clause {}
        }
    });
    let constructor = constructor(machine, live, &ty_name, &state_name);
    let type_doc =
        format!(" State machine generated by corofy from `coroutine fn {name}`.");
    let state_doc = format!(
        " The states of `{ty_name}`: each holds what the rest of the coroutine needs."
    );
    let vis = &f.vis;
    let output = &machine.output;
    let tokens = quote! {
        #constructor

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

/// The finished state. With generic parameters it carries a `PhantomData`
/// of them, so that every parameter is used even when no state stores it.
fn done_state(machine: &Machine, state_name: &Ident) -> [TokenStream; 3] {
    let marker_types: Vec<TokenStream> = machine
        .func
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
    if marker_types.is_empty() {
        [
            quote!(Done),
            quote!(#state_name::Done),
            quote!(#state_name::Done),
        ]
    } else {
        [
            quote!(Done(::std::marker::PhantomData<fn() -> (#(#marker_types,)*)>)),
            quote!(#state_name::Done(::std::marker::PhantomData)),
            quote!(#state_name::Done(_)),
        ]
    }
}

fn poll_fn(target: Target, body: &TokenStream) -> TokenStream {
    let allow = quote!(#[allow(unused_mut, clippy::never_loop, clippy::useless_conversion)]);
    match target {
        Target::Own => quote! {
            #allow
            fn poll(&mut self) -> PollState<Self::Output> { #body }
        },
        Target::Waker => quote! {
            #allow
            fn poll(&mut self, waker: &Waker) -> PollState<Self::Output> { #body }
        },
        Target::Std => quote! {
            #allow
            fn poll(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<Self::Output> {
                let this = self.get_mut();
                #body
            }
        },
    }
}

/// The function the coroutine was: same name, attributes and arguments; it
/// makes the machine in its start state.
fn constructor(
    machine: &Machine,
    live: &Liveness,
    ty_name: &Ident,
    state_name: &Ident,
) -> TokenStream {
    let f = &machine.func;
    let (docs, others): (Vec<_>, Vec<_>) =
        f.attrs.iter().partition(|a| a.path().is_ident("doc"));
    let args = f.sig.inputs.iter().filter_map(|a| match a {
        FnArg::Typed(t) => {
            let mut pat = (*t.pat).clone();
            if let Pat::Ident(p) = &mut pat {
                p.mutability = None;
            }
            let ty = &t.ty;
            Some(quote!(#pat: #ty))
        }
        FnArg::Receiver(_) => None,
    });
    let start = crate::model::BlockId::START;
    let start_fields: Vec<&Ident> = live
        .fields(start)
        .iter()
        .map(|&d| &machine.local(d).name)
        .collect();
    let unused_args = machine
        .args
        .iter()
        .map(|&d| &machine.local(d).name)
        .filter(|n| !start_fields.contains(n));
    let (vis, name) = (&f.vis, &f.sig.ident);
    let (impl_generics, ty_generics, where_clause) =
        f.sig.generics.split_for_impl();
    quote! {
        #(#docs)*
        #(#others)*
        #vis fn #name #impl_generics (#(#args),*) -> #ty_name #ty_generics #where_clause {
            #(let _ = #unused_args;)*
            #ty_name { state: #state_name::Start { #(#start_fields),* } }
        }
    }
}
