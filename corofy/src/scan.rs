//! Finds the `coroutine fn` markers with a real Rust lexer (so a `coroutine` in
//! a string or a comment is never touched) and makes the text parseable.

use crate::{Error, Target};
use proc_macro2::{Delimiter, LineColumn, TokenStream, TokenTree};
use std::str::FromStr;

/// The input, ready for `syn`.
#[derive(Debug)]
pub(crate) struct Scanned {
    /// The input with each marker `coroutine` replaced by `async` and four
    /// spaces: the same length, so every line and column stays where it was.
    pub parse_text: String,
    /// Where each marker starts.
    pub markers: Vec<LineColumn>,
    /// Byte offset of the start of each line.
    pub line_starts: Vec<usize>,
}

impl Scanned {
    /// Byte offset in the input of a line/column position.
    pub fn offset(&self, source: &str, at: LineColumn) -> usize {
        let start = self
            .line_starts
            .get(at.line.saturating_sub(1))
            .copied()
            .unwrap_or(source.len());
        let line = &source[start..];
        start
            + line
                .char_indices()
                .nth(at.column)
                .map_or(line.len(), |(i, _)| i)
    }
}

fn lex(source: &str) -> Result<TokenStream, Error> {
    TokenStream::from_str(source).map_err(|e| {
        Error::at(e.span(), format!("this is not valid Rust: {e}"))
            .help("check for an unclosed string, comment or bracket")
    })
}

/// See [`crate::nesting`].
pub(crate) fn nesting(source: &str) -> Result<usize, Error> {
    check_nesting(lex(source)?)
}

pub(crate) fn scan(source: &str) -> Result<Scanned, Error> {
    let tokens = lex(source)?;
    check_nesting(tokens.clone())?;
    let mut markers = Vec::new();
    find_markers(tokens, &mut markers);
    let mut line_starts = vec![0];
    line_starts.extend(source.match_indices('\n').map(|(i, _)| i + 1));
    let mut scanned = Scanned {
        parse_text: String::new(),
        markers,
        line_starts,
    };
    let mut text = source.to_string();
    for marker in &scanned.markers {
        let at = scanned.offset(source, *marker);
        text.replace_range(at..at + "coroutine".len(), "async    ");
    }
    scanned.parse_text = text;
    Ok(scanned)
}

/// How deep corofy lets code nest, counted in tokens along one path (see
/// [`nesting`](crate::nesting)). The parser and printer corofy uses recurse once per
/// level of the syntax tree, so without a limit a pathological input would
/// overflow the stack. Real code stays far below it: the deepest of 8,402
/// source files of crates.io crates (syn, tokio, ...) measured 321, and a
/// test measures every Rust and `.coro` file of the book and requires a
/// quarter of the limit.
pub const MAX_NESTING: usize = 1024;

/// Refuses input whose syntax tree could be deeper than [`MAX_NESTING`].
/// A tree grows a level with each bracket, and also with each token of a
/// chain (`a + b + c`, `&&&x`, `Vec<Vec<u8>>`, `x as u8 as u16`, `if a {}
/// else if b {} else ...`), so a token's depth is the depth of its bracket
/// plus the tokens before it in the bracket since the last `;`, `,` or `#`,
/// or since a `{...}` that no `else` follows: those end a statement, an
/// element or an item, or start an attribute. It walks the tokens with a
/// stack of its own, before anything that recurses, and returns the deepest
/// depth it saw.
fn check_nesting(tokens: TokenStream) -> Result<usize, Error> {
    /// A bracket being walked.
    struct Open {
        tokens: proc_macro2::token_stream::IntoIter,
        /// The depth of the bracket itself.
        depth: usize,
        /// Tokens since the last separator.
        run: usize,
        /// A `{...}` just ended: the run ends too, unless an `else` follows.
        after_block: bool,
    }
    let open = |tokens: TokenStream, depth| Open {
        tokens: tokens.into_iter(),
        depth,
        run: 0,
        after_block: false,
    };
    let mut stack = vec![open(tokens, 0)];
    let mut deepest = 0;
    while let Some(top) = stack.last_mut() {
        let Some(token) = top.tokens.next() else {
            stack.pop();
            continue;
        };
        if std::mem::take(&mut top.after_block)
            && !matches!(&token, TokenTree::Ident(i) if i == "else")
        {
            top.run = 0;
        }
        top.run += 1;
        let depth = top.depth + top.run;
        deepest = deepest.max(depth);
        if depth > MAX_NESTING {
            return Err(Error::at(
                token.span(),
                format!(
                    "this is nested too deeply for corofy: more than {MAX_NESTING} \
                     brackets, operators and generics along one path"
                ),
            )
            .help("split it up: move the inner part into a local, a function or a type alias"));
        }
        match token {
            TokenTree::Group(group) => {
                top.after_block = group.delimiter() == Delimiter::Brace;
                stack.push(open(group.stream(), depth));
            }
            TokenTree::Punct(p) if matches!(p.as_char(), ';' | ',' | '#') => {
                top.run = 0
            }
            _ => {}
        }
    }
    Ok(deepest)
}

fn find_markers(tokens: TokenStream, markers: &mut Vec<LineColumn>) {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    for (i, token) in tokens.iter().enumerate() {
        match token {
            TokenTree::Ident(ident) if ident == "coroutine" => {
                if matches!(tokens.get(i + 1), Some(TokenTree::Ident(next)) if next == "fn")
                {
                    markers.push(ident.span().start());
                }
            }
            TokenTree::Group(group) => find_markers(group.stream(), markers),
            _ => {}
        }
    }
}

/// The target named by `#![corofy(target = "...")]`, checked against the one
/// given on the command line.
pub(crate) fn choose_target(
    file: &syn::File,
    given: Option<Target>,
) -> Result<Target, Error> {
    let mut declared = None;
    for attr in &file.attrs {
        if !attr.path().is_ident("corofy") {
            continue;
        }
        let bad = || {
            Error::at(
                attr_span(attr),
                "cannot read this corofy attribute".to_string(),
            )
            .help("write `#![corofy(target = \"own\")]`, with `own`, `waker` or `std`")
        };
        let mut found = None;
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("target") {
                let value: syn::LitStr = meta.value()?.parse()?;
                found = Some((value.value(), value.span()));
                Ok(())
            } else {
                Err(meta.error("unknown corofy setting"))
            }
        })
        .map_err(|_| bad())?;
        let (name, span) = found.ok_or_else(bad)?;
        let target = Target::from_name(&name).ok_or_else(|| {
            Error::at(span, format!("unknown target {name:?}"))
                .help("the targets are \"own\", \"waker\" and \"std\"")
        })?;
        declared = Some((target, span));
    }
    match (given, declared) {
        (Some(given), Some((declared, span))) if given != declared => Err(Error::at(
            span,
            format!("the file asks for target `{declared}` but the command line says `{given}`"),
        )
        .help("drop --target, or change the attribute")),
        (Some(given), _) => Ok(given),
        (None, Some((declared, _))) => Ok(declared),
        (None, None) => Ok(Target::Own),
    }
}

pub(crate) fn attr_span(attr: &syn::Attribute) -> proc_macro2::Span {
    attr.pound_token.span
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `.rs` and `.coro` file under `dir`, but build output.
    fn sources(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            if path.is_dir() {
                if name != "target" && !name.to_string_lossy().starts_with('.') {
                    sources(&path, out);
                }
            } else if path.extension().is_some_and(|e| e == "rs" || e == "coro") {
                out.push(path);
            }
        }
    }

    #[test]
    fn the_books_own_code_stays_far_below_the_nesting_limit() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut files = Vec::new();
        for dir in ["chapters", "corofy", "ci"] {
            sources(&root.join(dir), &mut files);
        }
        assert!(files.len() > 100, "found only {} files", files.len());
        let (mut deepest, mut at) = (0, String::new());
        for file in &files {
            let text = std::fs::read_to_string(file).unwrap_or_default();
            // Test inputs that are not Rust on purpose do not lex; skip them.
            let Ok(tokens) = TokenStream::from_str(&text) else {
                continue;
            };
            let depth = check_nesting(tokens).unwrap_or(usize::MAX);
            if depth > deepest {
                (deepest, at) = (depth, file.display().to_string());
            }
        }
        eprintln!("deepest: {deepest} tokens, in {at}");
        assert!(
            deepest <= MAX_NESTING / 4,
            "{at} is {deepest} deep, against a limit of {MAX_NESTING}"
        );
    }

    #[test]
    fn chains_and_brackets_count_and_separators_reset() {
        let depth =
            |text: &str| check_nesting(TokenStream::from_str(text).unwrap());
        assert_eq!(depth("a").unwrap(), 1);
        assert_eq!(depth("((a))").unwrap(), 3);
        assert_eq!(depth("a + b").unwrap(), 3);
        // `;`, `,` and a `{...}` start a new run at the same depth.
        assert_eq!(depth("a + b; c + d").unwrap(), 4);
        assert_eq!(depth("a + b; c").unwrap(), 4);
        assert_eq!(depth("(a, b, c)").unwrap(), 3);
        assert_eq!(depth("fn f() {} fn g() {}").unwrap(), 4);
        // ... but an `else` continues the chain.
        assert_eq!(depth("if a {} b").unwrap(), 3);
        assert_eq!(depth("if a {} else if b {} else {}").unwrap(), 9);
        let deep = |open: &str, n: usize| format!("{}x", open.repeat(n));
        assert!(depth(&deep("&", MAX_NESTING - 1)).is_ok());
        let error = depth(&deep("&", MAX_NESTING)).unwrap_err();
        assert_eq!((error.line, error.column), (1, MAX_NESTING + 1));
        assert!(
            error.message.contains("nested too deeply"),
            "{}",
            error.message
        );
        // Brackets are walked without recursion: far past the limit is only
        // an error, at the first bracket past it.
        let parens = format!("{}x{}", "(".repeat(100_000), ")".repeat(100_000));
        let error = depth(&parens).unwrap_err();
        assert_eq!(error.column, MAX_NESTING + 1);
    }
}
