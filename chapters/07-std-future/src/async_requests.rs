//! The chapter's requests as the compiler writes them: `async fn`.

use crate::http::HttpGet;
use std::io;
use std::net::SocketAddr;

// ANCHOR: two-requests
/// `requests::two_requests`, as an `async fn`.
pub async fn two_requests(
    addr: SocketAddr,
    first: String,
    second: String,
) -> io::Result<[String; 2]> {
    let first_body = HttpGet::new(addr, &first).await?;
    let second_body = HttpGet::new(addr, &second).await?;
    Ok([first_body, second_body])
}
// ANCHOR_END: two-requests

// ANCHOR: borrowing
/// What corofy refuses (chapter 3) and the compiler accepts: a borrow of a
/// local held across an `.await`. The future this makes refers into itself
/// (and, like every `async fn` future, is `!Unpin`), so it only runs pinned.
pub async fn borrowing(addr: SocketAddr, text: String) -> io::Result<String> {
    let first_word: &str = text.split(' ').next().unwrap_or("");
    let suffix = HttpGet::new(addr, "/10/!").await?;
    Ok(format!("{first_word}{suffix}"))
}
// ANCHOR_END: borrowing
