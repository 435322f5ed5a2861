//! The reactor's bookkeeping: a dropped future takes its registration with it,
//! and no two live registrations share a token. One test function, because
//! the reactor is shared by the whole test process.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

mod support;

use ch07_std_future::executor::block_on;
use ch07_std_future::http::HttpGet;
use ch07_std_future::reactor::reactor;
use delayserver::DelayServer;
use mio::Interest;
use mio::net::UnixStream;
use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Waker};

#[test]
fn registrations_are_unique_and_go_away_with_their_futures() {
    let server = DelayServer::start().unwrap();
    assert_eq!(reactor().registered(), 0);

    // Twenty requests, each polled once (so registered) and then dropped
    // half-way: nothing must stay behind in the reactor.
    let waker = Waker::noop();
    let mut cx = Context::from_waker(waker);
    let mut requests: Vec<HttpGet> = (0..20)
        .map(|i| HttpGet::new(server.addr(), &format!("/60000/never-{i}")))
        .collect();
    for request in &mut requests {
        assert!(Pin::new(request).poll(&mut cx).is_pending());
    }
    assert_eq!(reactor().registered(), 20);
    drop(requests);
    assert_eq!(
        reactor().registered(),
        0,
        "a dropped request left its waker behind"
    );

    // Finished requests deregister too.
    for i in 0..5 {
        let body = block_on(HttpGet::new(server.addr(), &format!("/0/done-{i}")));
        assert_eq!(body.output.unwrap(), format!("done-{i}"));
    }
    assert_eq!(reactor().registered(), 0);

    // 500 live registrations at once: 500 distinct tokens.
    let mut pairs: Vec<(UnixStream, UnixStream)> =
        (0..500).map(|_| UnixStream::pair().unwrap()).collect();
    let ids: Vec<usize> = pairs
        .iter_mut()
        .map(|(ours, _)| {
            reactor().register(ours, Interest::READABLE, waker).unwrap()
        })
        .collect();
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 500);
    assert_eq!(reactor().registered(), 500);
    for ((ours, _), id) in pairs.iter_mut().zip(&ids) {
        reactor().deregister(ours, *id).unwrap();
    }
    assert_eq!(reactor().registered(), 0);
    // Tokens are never handed out twice, even after deregistration.
    let (mut again, _) = UnixStream::pair().unwrap();
    let next = reactor()
        .register(&mut again, Interest::READABLE, waker)
        .unwrap();
    assert!(ids.iter().all(|&id| id < next));
    reactor().deregister(&mut again, next).unwrap();
    assert_eq!(reactor().registered(), 0);
}
