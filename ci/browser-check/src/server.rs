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
    let path = path.trim_start_matches('/');
    let path = if path.is_empty() { "index.html" } else { path };
    let file = resolve(root, path);
    let mut log = log.lock().unwrap_or_else(PoisonError::into_inner);
    match file.and_then(|f| std::fs::read(f).ok()) {
        Some(body) => {
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
