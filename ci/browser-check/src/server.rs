//! A static file server for the built book, on 127.0.0.1 and an ephemeral port.
//! It records every path it could not serve, so a page that refers to a missing
//! file (a script, a stylesheet, an image) fails the check.

use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};

#[derive(Debug, Default)]
struct Log {
    served: Vec<String>,
    missing: Vec<String>,
}

/// The running server; dropping it stops it.
#[derive(Debug)]
pub struct StaticServer {
    addr: SocketAddr,
    log: Arc<Mutex<Log>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl StaticServer {
    pub fn start(root: &Path) -> io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let log = Arc::new(Mutex::new(Log::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = thread::spawn({
            let (root, log, stop) =
                (root.to_path_buf(), Arc::clone(&log), Arc::clone(&stop));
            move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Ok(stream) = stream {
                        // One at a time is plenty for one headless browser, and
                        // keeps the log in request order.
                        let _ = serve(stream, &root, &log);
                    }
                }
            }
        });
        Ok(StaticServer {
            addr,
            log,
            stop,
            thread: Some(thread),
        })
    }

    pub fn url(&self, page: &str) -> String {
        format!("http://{}/{page}", self.addr)
    }

    /// The address of `page` with `probe` added to it (see [`Probe`]).
    pub fn probe_url(&self, page: &str, probe: Probe) -> String {
        format!("http://{}/{page}?{}", self.addr, probe.query())
    }

    /// Paths requested but not found since the last call, and clears them.
    pub fn take_missing(&self) -> Vec<String> {
        std::mem::take(
            &mut self
                .log
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .missing,
        )
    }

    /// Whether `path` was served successfully at least once.
    pub fn served(&self, path: &str) -> bool {
        let log = self.log.lock().unwrap_or_else(PoisonError::into_inner);
        log.served.iter().any(|p| p == path)
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr); // wakes the accept loop
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(mut stream: TcpStream, root: &Path, log: &Mutex<Log>) -> io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header == "\r\n" {
            break;
        }
    }
    let target = request_line.split(' ').nth(1).unwrap_or("/");
    let path = target.split(['?', '#']).next().unwrap_or("/");
    let probe = target
        .split_once('?')
        .and_then(|(_, query)| {
            query.split('&').find_map(|q| q.strip_prefix("probe="))
        })
        .and_then(Probe::parse);
    let path = path.trim_start_matches('/');
    let path = if path.is_empty() { "index.html" } else { path };
    let body = match path {
        SELF_TEST_PATH => Some(SELF_TEST.as_bytes().to_vec()),
        _ => resolve(root, path).and_then(|f| std::fs::read(f).ok()),
    };
    let mut log = log.lock().unwrap_or_else(PoisonError::into_inner);
    match body {
        Some(body) => {
            let body = match probe {
                Some(probe) => probe.inject(body),
                None => body,
            };
            log.served.push(path.to_string());
            drop(log);
            let header = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                content_type(path),
                body.len()
            );
            stream.write_all(header.as_bytes())?;
            stream.write_all(&body)
        }
        None => {
            log.missing.push(path.to_string());
            drop(log);
            stream.write_all(
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            )
        }
    }
}

/// What the check asks the served file to do, by the URL's `probe=` query:
/// the server adds it to the file, so the page measures itself (headless
/// Chromium run from the command line can load a page, dump its DOM and take
/// a screenshot, but not run a script of ours).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// `probe=height`: an HTML page notes its full height on `<body>`, as
    /// `data-probe-height`.
    Height,
    /// `probe=offset-N`: an HTML page shows its content from N pixels down,
    /// so a screenshot can take the part of a long page below the first
    /// window (Chromium's screenshots stop at 16,384 pixels).
    Offset(u32),
    /// `probe=svg`: an SVG opened on its own checks its text for overflow and
    /// collisions (`probes/svg.js`) and writes what it found into the
    /// document.
    Svg,
}

/// The script an SVG probe runs.
const SVG_PROBE: &str = include_str!("probes/svg.js");

/// A picture with each mistake the SVG probe looks for made once, served at
/// [`SELF_TEST_PATH`] (not a file of the book): the check runs the probe on it
/// first, and fails if the probe misses one, so that a browser in which the
/// measurements quietly come out as zeros cannot pass every diagram.
const SELF_TEST: &str = include_str!("probes/self-test.svg");

/// Where the server serves the self-test picture (`probes/self-test.svg`).
pub const SELF_TEST_PATH: &str = "browser-check/self-test.svg";

impl Probe {
    fn parse(value: &str) -> Option<Probe> {
        match value {
            "height" => Some(Probe::Height),
            "svg" => Some(Probe::Svg),
            _ => value
                .strip_prefix("offset-")?
                .parse()
                .ok()
                .map(Probe::Offset),
        }
    }

    /// The query that asks for this probe.
    pub fn query(self) -> String {
        match self {
            Probe::Height => "probe=height".to_string(),
            Probe::Offset(n) => format!("probe=offset-{n}"),
            Probe::Svg => "probe=svg".to_string(),
        }
    }

    /// `body` with the probe added before its closing tag (unchanged if it
    /// has none).
    fn inject(self, body: Vec<u8>) -> Vec<u8> {
        let Ok(text) = String::from_utf8(body.clone()) else {
            return body;
        };
        let (close, added) = match self {
            Probe::Height => (
                "</body>",
                "<script>window.addEventListener('load', () => document.body.setAttribute(\
                 'data-probe-height', document.documentElement.scrollHeight));</script>"
                    .to_string(),
            ),
            Probe::Offset(n) => (
                "</body>",
                format!("<style>#mdbook-content {{ position: relative; top: -{n}px; }}</style>"),
            ),
            Probe::Svg => ("</svg>", format!("<script><![CDATA[\n{SVG_PROBE}\n]]></script>\n")),
        };
        match text.rfind(close) {
            Some(at) => {
                let mut out = text;
                out.insert_str(at, &added);
                out.into_bytes()
            }
            None => body,
        }
    }
}

/// The file under `root` for a URL path, refusing anything that climbs out.
fn resolve(root: &Path, path: &str) -> Option<PathBuf> {
    let relative = Path::new(path);
    if relative
        .components()
        .any(|c| !matches!(c, Component::Normal(_)))
    {
        return None;
    }
    let file = root.join(relative);
    file.is_file().then_some(file)
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css",
        Some("js") => "text/javascript",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("woff2") => "font/woff2",
        Some("woff") => "font/woff",
        Some("ttf") => "font/ttf",
        _ => "application/octet-stream",
    }
}
