//! `#[main]` for chapter 13's pool: `async fn main` becomes a `main` that
//! builds the pool and runs the body on it with `block_on`. Bad uses give a
//! compiler error that points at the mistake, and the function is still
//! emitted, so that the rest of the program (and an editor) keeps working.

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as Tokens};
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{ItemFn, LitInt};

// ANCHOR: main
/// Runs `async fn main` on a new pool. Options: `workers = N` (N > 0; the
/// default is the machine's parallelism), `blocking_threads = N` (N > 0;
/// default 16) and `shutdown_on_signals` (SIGINT and SIGTERM cancel the
/// pool's shutdown token; a second one exits).
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut function = match syn::parse::<ItemFn>(item.clone()) {
        Ok(function) => function,
        // Not a function at all: say so, and give the tokens back untouched.
        Err(e) => return with_error(item.into(), e),
    };
    match expand(args, &function) {
        Ok(expanded) => expanded.into(),
        Err(e) => {
            // Emit the function without `async`, so that the only error the
            // reader sees is ours, not also "main cannot be async".
            function.sig.asyncness = None;
            with_error(function.into_token_stream(), e)
        }
    }
}

/// The options `#[main(...)]` takes.
#[derive(Default)]
struct Options {
    workers: Option<LitInt>,
    blocking_threads: Option<LitInt>,
    signals: bool,
}

fn parse_options(args: TokenStream) -> syn::Result<Options> {
    let mut options = Options::default();
    let parser = syn::meta::parser(|meta| {
        let count = |what: &str| -> syn::Result<LitInt> {
            let n: LitInt = meta.value()?.parse()?;
            if n.base10_parse::<usize>()? == 0 {
                let message = format!("`{what}` must be 1 or more");
                return Err(syn::Error::new(n.span(), message));
            }
            Ok(n)
        };
        if meta.path.is_ident("workers") {
            options.workers = Some(count("workers")?);
            Ok(())
        } else if meta.path.is_ident("blocking_threads") {
            options.blocking_threads = Some(count("blocking_threads")?);
            Ok(())
        } else if meta.path.is_ident("shutdown_on_signals") {
            options.signals = true;
            Ok(())
        } else {
            Err(meta.error(
                "unknown option: #[main] takes `workers = N`, \
                 `blocking_threads = N` and `shutdown_on_signals`",
            ))
        }
    });
    syn::parse::Parser::parse(parser, args)?;
    Ok(options)
}

fn expand(args: TokenStream, function: &ItemFn) -> syn::Result<Tokens> {
    let options = parse_options(args)?;
    let sig = &function.sig;
    if sig.asyncness.is_none() {
        return Err(syn::Error::new(
            sig.fn_token.span(),
            "#[main] runs an `async fn`: write `async fn`",
        ));
    }
    if !sig.inputs.is_empty() {
        return Err(syn::Error::new(
            sig.inputs.span(),
            "`main` takes no arguments: read them with std::env::args()",
        ));
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        return Err(syn::Error::new(
            sig.generics.span(),
            "`main` cannot be generic",
        ));
    }
    let (attrs, vis, body) = (&function.attrs, &function.vis, &function.block);
    let mut plain = sig.clone();
    plain.asyncness = None;
    let output = match &sig.output {
        syn::ReturnType::Default => quote!(()),
        syn::ReturnType::Type(_, ty) => ty.to_token_stream(),
    };
    let workers = options.workers.map(|n| quote!(.workers(#n)));
    let blocking = options
        .blocking_threads
        .map(|n| quote!(.blocking_threads(#n)));
    let signals = options.signals.then(|| quote!(.shutdown_on_signals()));
    let span = Span::call_site();
    Ok(quote_spanned! {span=>
        #(#attrs)*
        #vis #plain {
            let body = async move #body;
            let pool = ::ch13_uring_pool::executor::Pool::builder()
                #workers
                #blocking
                #signals
                .build();
            let ran = pool.and_then(|pool| pool.block_on(body));
            // An explicit `return`, so that the body's type is checked
            // against the declared one at this line.
            return match ran {
                ::std::result::Result::Ok(output) => {
                    let output: #output = output;
                    output
                }
                ::std::result::Result::Err(e) => {
                    ::std::eprintln!("error: cannot run the io_uring pool: {e}");
                    ::std::process::exit(1)
                }
            };
        }
    })
}

/// `tokens`, followed by the error as a `compile_error!` at its span.
fn with_error(tokens: Tokens, error: syn::Error) -> TokenStream {
    let error = error.to_compile_error();
    quote!(#tokens #error).into()
}
// ANCHOR_END: main
