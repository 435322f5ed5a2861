//! The marks lowering leaves in a block's code where control leaves the block,
//! made and read back here and nowhere else.
//!
//! While a coroutine is lowered, corofy does not know yet which locals each
//! state will carry (liveness decides that afterwards), so it cannot write
//! `self.state = State::Waiting2 { a, b, __awaited }` yet. It writes a macro
//! call of a name no program uses instead, `__corofy_goto!(2)`, and rendering
//! replaces every one of them. A placeholder still in the output is a bug in
//! corofy, reported by [`check_none_left`], never written to a file.

use crate::Error;
use crate::model::BlockId;
use proc_macro2::Literal;
use quote::format_ident;
use syn::visit::Visit;
use syn::{Expr, Stmt, parse_quote};

/// The local a wait's result is bound to in the block after it.
pub(crate) const OUT: &str = "__out";
/// The state field that holds the future being waited on.
pub(crate) const AWAITED: &str = "__awaited";

const GOTO: &str = "__corofy_goto";
const WAIT: &str = "__corofy_wait";
const RETURN: &str = "__corofy_return";
const PREFIX: &str = "__corofy_";

/// Where control goes when it leaves a block.
#[derive(Debug, Clone)]
pub(crate) enum Placeholder {
    /// Move to a block and run it now.
    Goto(BlockId),
    /// Start waiting on `future`, and go on in `resume` with its output.
    Wait { resume: BlockId, future: Expr },
    /// The coroutine is finished with this value.
    Return(Expr),
}

impl Placeholder {
    pub fn into_expr(self) -> Expr {
        match self {
            Placeholder::Goto(to) => {
                let (mac, n) =
                    (format_ident!("{GOTO}"), Literal::usize_unsuffixed(to.0));
                parse_quote!(#mac!(#n))
            }
            Placeholder::Wait { resume, future } => {
                let (mac, n) =
                    (format_ident!("{WAIT}"), Literal::usize_unsuffixed(resume.0));
                parse_quote!(#mac!(#n, #future))
            }
            Placeholder::Return(value) => {
                let mac = format_ident!("{RETURN}");
                parse_quote!(#mac!(#value))
            }
        }
    }

    /// The placeholder as a statement of its own.
    pub fn into_stmt(self) -> Stmt {
        Stmt::Expr(self.into_expr(), Some(Default::default()))
    }

    /// Reads back a macro call: `None` if it is not a placeholder.
    pub fn read(mac: &syn::Macro) -> Option<Result<Placeholder, Error>> {
        let name = mac.path.get_ident()?.to_string();
        let malformed =
            || Error::internal(format!("a malformed `{name}!` placeholder"));
        let block = |lit: &syn::LitInt| lit.base10_parse().map(BlockId);
        let read = match name.as_str() {
            GOTO => mac
                .parse_body::<syn::LitInt>()
                .and_then(|n| block(&n))
                .map(Placeholder::Goto),
            WAIT => mac
                .parse_body_with(
                    syn::punctuated::Punctuated::<Expr, syn::Token![,]>::parse_terminated,
                )
                .and_then(|args| {
                    let mut args = args.into_iter();
                    match (args.next(), args.next(), args.next()) {
                        (
                            Some(Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(n), .. })),
                            Some(future),
                            None,
                        ) => Ok(Placeholder::Wait { resume: block(&n)?, future }),
                        _ => Err(syn::Error::new(mac.path.span(), "")),
                    }
                }),
            RETURN => mac.parse_body::<Expr>().map(Placeholder::Return),
            _ => return None,
        };
        Some(read.map_err(|_| malformed()))
    }

    /// Whether a statement is a placeholder that leaves the block (all do).
    pub fn ends_block(stmt: &Stmt) -> bool {
        let mac = match stmt {
            Stmt::Expr(Expr::Macro(m), _) => &m.mac,
            Stmt::Macro(m) => &m.mac,
            _ => return false,
        };
        mac.path
            .get_ident()
            .is_some_and(|i| [GOTO, WAIT, RETURN].iter().any(|n| i == n))
    }
}

use syn::spanned::Spanned;

/// Fails if rendering left a placeholder behind.
pub(crate) fn check_none_left(file: &syn::File) -> Result<(), Error> {
    struct Find(Option<String>);
    impl<'a> Visit<'a> for Find {
        fn visit_macro(&mut self, mac: &'a syn::Macro) {
            if let Some(ident) = mac.path.get_ident()
                && ident.to_string().starts_with(PREFIX)
            {
                self.0.get_or_insert_with(|| ident.to_string());
            }
        }
    }
    let mut find = Find(None);
    find.visit_file(file);
    match find.0 {
        Some(name) => Err(Error::internal(format!(
            "a `{name}!` placeholder survived rendering; please report this with the input"
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_read_back_as_made() {
        let made = [
            Placeholder::Goto(BlockId(3)),
            Placeholder::Wait {
                resume: BlockId(2),
                future: parse_quote!(f(x)),
            },
            Placeholder::Return(parse_quote!(a + 1)),
        ];
        for placeholder in made {
            let expr = placeholder.clone().into_expr();
            let Expr::Macro(m) = &expr else {
                panic!("not a macro call: {expr:?}")
            };
            let back = Placeholder::read(&m.mac)
                .expect("a placeholder")
                .expect("well formed");
            assert_eq!(format!("{back:?}"), format!("{placeholder:?}"));
            assert!(Placeholder::ends_block(&placeholder.into_stmt()));
        }
        let other: syn::Macro = parse_quote!(println!("x"));
        assert!(Placeholder::read(&other).is_none());
    }

    #[test]
    fn a_placeholder_left_in_the_output_is_an_internal_error() {
        let clean: syn::File = parse_quote!(
            fn f() {
                println!("x");
            }
        );
        assert!(check_none_left(&clean).is_ok());
        let left: syn::File = parse_quote!(
            fn f() {
                if c {
                    __corofy_goto!(1);
                }
            }
        );
        let error = check_none_left(&left).expect_err("a placeholder survived");
        assert_eq!(error.line, 0, "internal errors have no location");
        assert!(error.message.contains("__corofy_goto"), "{}", error.message);
    }
}
