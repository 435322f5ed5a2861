// `Pin::new` only accepts values that are `Unpin`: for those, pinning promises
// nothing. A `PinnedCursor` is `!Unpin`, so this is refused (E0277), and with
// it every safe way to get a `&mut PinnedCursor` back out of a pin, and so to
// move it.
use ch07_std_future::pinning::PinnedCursor;

fn main() {
    let mut cursor = PinnedCursor::new(b"hello, world");
    let pinned = std::pin::Pin::new(&mut cursor);
    pinned.aim(7);
}
