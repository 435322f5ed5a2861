//! Runs headless Chromium on one page at a time.

use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// Binaries tried in order when `CHROME` is not set.
const CANDIDATES: &[&str] = &[
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
];
/// A page that takes longer than this is a failure, not a reason to hang CI.
const TIMEOUT: Duration = Duration::from_secs(90);

/// A browser binary and a scratch folder for its throwaway profiles.
#[derive(Debug)]
pub struct Chrome {
    binary: PathBuf,
    scratch: PathBuf,
    runs: usize,
}

/// What one run produced.
#[derive(Debug)]
pub struct Page {
    /// The DOM after scripts ran (empty when taking a screenshot).
    pub dom: String,
    /// Chromium's log, which carries the page's console messages.
    pub log: String,
}

/// How the page should look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Theme {
    Light,
    /// `prefers-color-scheme: dark`, which mdBook maps to its dark theme.
    Dark,
}

impl Chrome {
    /// Finds the browser: `$CHROME`, or the first of the usual names on PATH.
    pub fn find(scratch: &Path) -> io::Result<Self> {
        let binary = match std::env::var_os("CHROME") {
            Some(path) => PathBuf::from(path),
            None => CANDIDATES
                .iter()
                .find_map(|name| on_path(name))
                .ok_or_else(|| {
                    io::Error::new(
                        io::ErrorKind::NotFound,
                        "no Chromium or Chrome found (tried $CHROME, chromium, chromium-browser, \
                         google-chrome); on Debian: apt-get install chromium",
                    )
                })?,
        };
        std::fs::create_dir_all(scratch)?;
        Ok(Chrome {
            binary,
            scratch: scratch.to_path_buf(),
            runs: 0,
        })
    }

    /// Loads `url` and returns its DOM once its scripts have run.
    pub fn dump_dom(&mut self, url: &str) -> io::Result<Page> {
        self.run(url, Theme::Light, &["--dump-dom".to_string()])
    }

    /// Loads `url` and saves a `width` x `height` screenshot to `path`.
    pub fn screenshot(
        &mut self,
        url: &str,
        theme: Theme,
        path: &Path,
        (width, height): (u32, u32),
    ) -> io::Result<Page> {
        let args = [
            format!("--screenshot={}", path.display()),
            format!("--window-size={width},{height}"),
            "--hide-scrollbars".to_string(),
        ];
        self.run(url, theme, &args)
    }

    fn run(
        &mut self,
        url: &str,
        theme: Theme,
        extra: &[String],
    ) -> io::Result<Page> {
        self.runs += 1;
        let profile = self.scratch.join(format!("profile-{}", self.runs));
        let _ = std::fs::remove_dir_all(&profile);
        let mut command = Command::new(&self.binary);
        // The flags a sandboxed root needs, and none that reach the network.
        command.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=5000",
        ]);
        command.arg(format!("--user-data-dir={}", profile.display()));
        if theme == Theme::Dark {
            command.arg("--force-dark-mode");
        }
        command.args(extra).arg(url);
        let result = run_with_timeout(command);
        let _ = std::fs::remove_dir_all(&profile);
        result.map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("{} on {url}: {e}", self.binary.display()),
            )
        })
    }
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

fn run_with_timeout(mut command: Command) -> io::Result<Page> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let out = thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err = thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if started.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("no result after {TIMEOUT:?}; killed"),
            ));
        }
        thread::sleep(Duration::from_millis(50));
    };
    let dom = out.join().unwrap_or_default();
    let log = err.join().unwrap_or_default();
    if !status.success() {
        return Err(io::Error::other(format!(
            "exited with {status}; its log:\n{log}"
        )));
    }
    Ok(Page { dom, log })
}
