//! Located errors: `path:line:col: error: message`, the line, a caret, and help.

use proc_macro2::Span;
use std::fmt;

/// Why corofy refused an input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// 1-based line; 0 when the error has no location (an internal error).
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    pub message: String,
    /// What to write instead.
    pub help: Option<String>,
}

impl Error {
    pub(crate) fn at(span: Span, message: impl Into<String>) -> Self {
        let start = span.start();
        Error {
            line: start.line,
            column: start.column + 1,
            message: message.into(),
            help: None,
        }
    }

    /// Places the error at the first line and column of the file.
    pub(crate) fn at_start(mut self) -> Self {
        self.line = 1;
        self.column = 1;
        self
    }

    pub(crate) fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub(crate) fn from_syn(e: syn::Error) -> Self {
        Error::at(e.span(), format!("this is not valid Rust: {e}")).help(
            "corofy reads Rust with `coroutine fn` items and `.wait` points; fix the \
             syntax error first",
        )
    }

    pub(crate) fn internal(message: String) -> Self {
        Error {
            line: 0,
            column: 0,
            message: format!("internal error: {message}"),
            help: None,
        }
    }

    /// The full report, as the command line prints it.
    pub fn render(&self, path: &str, source: &str) -> String {
        // Columns are counted without a byte order mark, as `rewrite` reads.
        let source = source.strip_prefix('\u{feff}').unwrap_or(source);
        let mut out = if self.line == 0 {
            format!("{path}: error: {}\n", self.message)
        } else {
            format!(
                "{path}:{}:{}: error: {}\n",
                self.line, self.column, self.message
            )
        };
        if let Some(text) = source.lines().nth(self.line.wrapping_sub(1)) {
            let number = self.line.to_string();
            let pad = " ".repeat(number.len());
            let caret_at: String = text
                .chars()
                .take(self.column.saturating_sub(1))
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            out.push_str(&format!(
                "{pad} |\n{number} | {text}\n{pad} | {caret_at}^\n"
            ));
        }
        if let Some(help) = &self.help {
            out.push_str(&format!("help: {help}\n"));
        }
        out
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.message)
    }
}

impl std::error::Error for Error {}
