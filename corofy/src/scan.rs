//! Finds the `coroutine fn` markers with a real Rust lexer (so a `coroutine` in
//! a string or a comment is never touched) and makes the text parseable.

use crate::{Error, Target};
use proc_macro2::{LineColumn, TokenStream, TokenTree};
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

pub(crate) fn scan(source: &str) -> Result<Scanned, Error> {
    let tokens = TokenStream::from_str(source).map_err(|e| {
        Error::at(e.span(), format!("this is not valid Rust: {e}"))
            .help("check for an unclosed string, comment or bracket")
    })?;
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
