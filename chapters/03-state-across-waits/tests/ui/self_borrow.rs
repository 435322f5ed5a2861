// A waiting state that keeps a buffer and, beside it, a view into that
// buffer: what a machine would need for `let view = &text[..5];` followed by
// a `.wait` and a use of `view`. It does not compile (error E0505: `text` is
// moved into the state while `view` still borrows it), and no lifetime we
// could write on `Waiting` would make it compile.
pub struct Waiting<'a> {
    text: String,
    view: &'a str,
}

pub fn start<'a>() -> Waiting<'a> {
    let text = String::from("hello, world");
    let view = &text[..5];
    Waiting { text, view }
}

fn main() {
    let state = start();
    println!("{} / {}", state.text, state.view);
}
