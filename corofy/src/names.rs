//! The names corofy adds to a file, checked before anything is generated:
//! each coroutine's machine type and state enum must be names Rust accepts and
//! that nothing else in the file has, and the names the generated `poll` uses
//! for itself must not be taken by the coroutine's own bindings. Otherwise the
//! output would not compile, or worse, would compile and mean something else
//! (a local `waker` handed to an awaited future in place of the real waker).

use crate::placeholder::{AWAITED, OUT};
use crate::types::type_name_text;
use crate::{Error, Target};
use proc_macro2::Span;
use std::collections::BTreeMap;
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::{Item, ItemFn, UseTree};

/// The label of the loop the generated `poll` runs in (`render` writes it).
pub(crate) const MACHINE_LABEL: &str = "machine";

/// Checks every coroutine of `file` (see the module's documentation).
pub(crate) fn check(
    file: &syn::File,
    coroutines: &[&ItemFn],
    target: Target,
) -> Result<(), Error> {
    // What the file itself names in the type namespace.
    let mut taken: BTreeMap<String, &'static str> = BTreeMap::new();
    for item in &file.items {
        let (ident, what) = match item {
            Item::Struct(s) => (&s.ident, "a struct"),
            Item::Enum(e) => (&e.ident, "an enum"),
            Item::Union(u) => (&u.ident, "a union"),
            Item::Type(t) => (&t.ident, "a type alias"),
            Item::Trait(t) => (&t.ident, "a trait"),
            Item::Use(u) => {
                imported(&u.tree, &mut taken);
                continue;
            }
            _ => continue,
        };
        taken.insert(ident.to_string(), what);
    }
    let mut generated: BTreeMap<String, &syn::Ident> = BTreeMap::new();
    for coroutine in coroutines {
        let ident = &coroutine.sig.ident;
        let name = type_name_text(ident);
        if syn::parse_str::<syn::Ident>(&name).is_err() {
            let why = if name.is_empty() {
                "it has no letters".to_string()
            } else {
                format!("`{name}` is not one")
            };
            return Err(Error::at(
                ident.span(),
                format!("corofy cannot make a type name out of `{ident}`: {why}"),
            )
            .help("the machine's type is the coroutine's name in CamelCase; rename the coroutine"));
        }
        for made in [name.clone(), format!("{name}State")] {
            if let Some(what) = taken.get(&made) {
                return Err(Error::at(
                    ident.span(),
                    format!(
                        "the state machine of `{ident}` would be named `{made}`, and the file \
                         already has {what} of that name"
                    ),
                )
                .help("rename the coroutine or the other item"));
            }
            if let Some(other) = generated.insert(made.clone(), ident) {
                return Err(Error::at(
                    ident.span(),
                    format!(
                        "the state machines of `{other}` and `{ident}` would both be named \
                         `{made}`"
                    ),
                )
                .help("rename one of the coroutines"));
            }
        }
        let mut bindings = Bindings {
            reserved: reserved(target),
            found: None,
        };
        for input in &coroutine.sig.inputs {
            bindings.visit_fn_arg(input);
        }
        bindings.visit_block(&coroutine.block);
        if let Some((span, name)) = bindings.found {
            let kind = if name.starts_with('\'') {
                "label"
            } else {
                "binding"
            };
            return Err(Error::at(
                span,
                format!(
                    "`{name}` is a name the generated state machine uses for itself; \
                     a {kind} of that name would hide it"
                ),
            )
            .help(format!("rename it{}", hint(target, &name))));
        }
    }
    Ok(())
}

/// What the generated `poll` calls its own things, for `target`.
fn reserved(target: Target) -> Vec<&'static str> {
    let mut names = vec![OUT, AWAITED];
    match target {
        Target::Own => {}
        Target::Waker => names.push("waker"),
        Target::Std => names.push("cx"),
    }
    names
}

/// Why the name matters, for the names a reader would pick by accident.
fn hint(target: Target, name: &str) -> &'static str {
    match (target, name) {
        (Target::Waker, "waker") => {
            ": `poll(&mut self, waker: &Waker)` passes its `waker` to each awaited future"
        }
        (Target::Std, "cx") => {
            ": `poll(self: Pin<&mut Self>, cx: &mut Context)` passes its `cx` to each \
             awaited future"
        }
        _ => "",
    }
}

/// The names a `use` brings into scope.
fn imported(tree: &UseTree, taken: &mut BTreeMap<String, &'static str>) {
    match tree {
        UseTree::Path(p) => imported(&p.tree, taken),
        UseTree::Name(n) if n.ident != "self" => {
            taken.insert(n.ident.to_string(), "an import");
        }
        UseTree::Rename(r) => {
            taken.insert(r.rename.to_string(), "an import");
        }
        UseTree::Group(g) => g.items.iter().for_each(|t| imported(t, taken)),
        UseTree::Name(_) | UseTree::Glob(_) => {}
    }
}

/// Finds the first binding (or loop label) that takes a reserved name.
struct Bindings {
    reserved: Vec<&'static str>,
    found: Option<(Span, String)>,
}

impl Bindings {
    fn is_reserved(&self, name: &str) -> bool {
        self.reserved.contains(&name)
            || name.starts_with("__corofy")
            || name
                .strip_prefix("__iter")
                .is_some_and(|n| n.chars().all(|c| c.is_ascii_digit()))
    }
}

impl<'ast> Visit<'ast> for Bindings {
    fn visit_pat_ident(&mut self, pat: &'ast syn::PatIdent) {
        let name = pat.ident.to_string();
        if self.found.is_none() && self.is_reserved(&name) {
            self.found = Some((pat.ident.span(), name));
        }
        syn::visit::visit_pat_ident(self, pat);
    }

    fn visit_label(&mut self, label: &'ast syn::Label) {
        if self.found.is_none() && label.name.ident == MACHINE_LABEL {
            self.found = Some((label.span(), format!("'{MACHINE_LABEL}")));
        }
        syn::visit::visit_label(self, label);
    }

    // Items inside the body are their own scopes: their bindings hide nothing.
    fn visit_item(&mut self, _: &'ast Item) {}
}

#[cfg(test)]
mod tests {
    use crate::Target;

    /// corofy's report for `source`, or `None` when it is accepted.
    fn refusal(source: &str, target: Option<Target>) -> Option<String> {
        crate::rewrite(source, "t.coro", target)
            .err()
            .map(|e| e.message)
    }

    const WAIT: &str = "let x: u32 = G::new().wait; x";

    #[test]
    fn a_machine_name_the_file_already_has_is_refused() {
        for item in [
            "struct Fetch;",
            "enum FetchState {}",
            "type Fetch = u8;",
            "trait Fetch {}",
            "union Fetch { a: u8 }",
            "use a::Fetch;",
            "use a::{b::FetchState};",
            "use a::b as Fetch;",
        ] {
            let source =
                format!("{item}\ncoroutine fn fetch() -> u32 {{ {WAIT} }}\n");
            let message = refusal(&source, None).unwrap_or_default();
            assert!(message.contains("already has"), "{item}: {message:?}");
        }
        // A function of that name is in the other namespace: no clash.
        let source =
            format!("fn Fetch() {{}}\ncoroutine fn fetch() -> u32 {{ {WAIT} }}\n");
        assert_eq!(refusal(&source, None), None);
    }

    #[test]
    fn two_machines_with_one_name_are_refused() {
        for (a, b) in [("two", "two_"), ("f", "f_state"), ("get_it", "get__it")] {
            let source = format!(
                "coroutine fn {a}() -> u32 {{ {WAIT} }}\ncoroutine fn {b}() -> u32 {{ {WAIT} }}\n"
            );
            let message = refusal(&source, None).unwrap_or_default();
            assert!(
                message.contains("would both be named"),
                "{a}/{b}: {message:?}"
            );
        }
    }

    #[test]
    fn names_without_a_type_name_are_refused_and_raw_ones_work() {
        for name in ["__", "_1", "self_"] {
            let source = format!("coroutine fn {name}() -> u32 {{ {WAIT} }}\n");
            let message = refusal(&source, None).unwrap_or_default();
            assert!(
                message.contains("cannot make a type name"),
                "{name}: {message:?}"
            );
        }
        let source = format!("coroutine fn r#type() -> u32 {{ {WAIT} }}\n");
        let generated = crate::rewrite(&source, "t.coro", None).unwrap_or_default();
        assert!(generated.contains("struct Type"), "{generated}");
    }

    #[test]
    fn a_binding_that_hides_the_machines_own_names_is_refused() {
        let cases = [
            ("let waker: u32 = G::new().wait; waker", Some(Target::Waker)),
            ("let cx: u32 = G::new().wait; cx", Some(Target::Std)),
            ("let __out: u32 = G::new().wait; __out", None),
            ("let __awaited: u32 = G::new().wait; __awaited", None),
            ("let __iter0: u32 = G::new().wait; __iter0", None),
            (
                "'machine: loop { let x: u32 = G::new().wait; break x; }",
                None,
            ),
            (
                "match 1 { waker => { let x: u32 = G::new().wait; x + waker } }",
                Some(Target::Waker),
            ),
        ];
        for (body, target) in cases {
            let source = format!("coroutine fn f() -> u32 {{ {body} }}\n");
            let message = refusal(&source, target).unwrap_or_default();
            assert!(message.contains("uses for itself"), "{body}: {message:?}");
        }
        // The names only matter where the machine uses them.
        for (body, target) in [
            ("let waker: u32 = G::new().wait; waker", Some(Target::Own)),
            ("let cx: u32 = G::new().wait; cx", Some(Target::Waker)),
            (
                "fn inner(waker: u32) -> u32 { waker } let x: u32 = G::new().wait; inner(x)",
                Some(Target::Waker),
            ),
        ] {
            let source = format!("coroutine fn f() -> u32 {{ {body} }}\n");
            assert_eq!(refusal(&source, target), None, "{body}");
        }
    }
}
