//! The results file, and everything the page shows that is made from it:
//! `tables.md` (included by the page, one anchor per table) and the plots.
//! Nothing here measures; `report --check` remakes all of it from the
//! committed `results.tsv` and fails if a committed file differs.

use super::servers::{self, LADDER, PEERS};
use plotters::prelude::*;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The results file's name in the results folder.
pub const RESULTS: &str = "results.tsv";
const TABLES: &str = "tables.md";
const PLOTS: [&str; 3] = ["ch14-echo-rate.svg", "ch14-cpu.svg", "ch14-timers.svg"];

/// One measured value: `group` and `metric` say what, `n` the size (the
/// connections, or the task count), `server` whose.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    group: String,
    metric: String,
    n: usize,
    server: String,
    value: f64,
}

impl Row {
    /// A row.
    pub fn new(
        group: &str,
        metric: &str,
        n: usize,
        server: &str,
        value: f64,
    ) -> Row {
        Row {
            group: group.into(),
            metric: metric.into(),
            n,
            server: server.into(),
            value,
        }
    }
}

/// The machine it was measured on, and the rows.
#[derive(Debug, Default)]
pub struct Results {
    meta: BTreeMap<String, String>,
    rows: Vec<Row>,
}

impl Results {
    /// Empty results, with this machine's description, kernel and the date.
    pub fn describe_machine() -> Results {
        let output = |program: &str, args: &[&str]| {
            Command::new(program)
                .args(args)
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
                .unwrap_or_default()
        };
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .unwrap_or_default()
            .lines()
            .find_map(|l| {
                l.strip_prefix("model name")
                    .map(|m| m.trim_start_matches([' ', '\t', ':']).to_string())
            })
            .unwrap_or_default();
        let mut meta = BTreeMap::new();
        meta.insert("date".into(), output("date", &["-u", "+%Y-%m-%d"]));
        meta.insert("kernel".into(), output("uname", &["-r"]));
        meta.insert("cpu".into(), cpu);
        meta.insert("cpus".into(), output("nproc", &["--all"]));
        Results {
            meta,
            rows: Vec::new(),
        }
    }

    /// Records a fact about the run (`repeats`, say).
    pub fn describe(&mut self, key: &str, value: &str) {
        self.meta.insert(key.into(), value.into());
    }

    /// Adds a row.
    pub fn push(&mut self, row: Row) {
        self.rows.push(row);
    }

    /// Writes the results file.
    pub fn save(&self, path: &Path) -> io::Result<()> {
        let mut text = String::from(
            "# Written by `cargo run --release` in chapters/14-performance; tables.md and \
             the plots are made from this file.\n",
        );
        for (key, value) in &self.meta {
            let _ = writeln!(text, "meta\t{key}\t{value}");
        }
        for r in &self.rows {
            let _ = writeln!(
                text,
                "{}\t{}\t{}\t{}\t{}",
                r.group, r.metric, r.n, r.server, r.value
            );
        }
        std::fs::write(path, text)
    }

    /// Reads a results file.
    pub fn load(path: &Path) -> io::Result<Results> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            io::Error::new(e.kind(), format!("{}: {e}", path.display()))
        })?;
        let mut results = Results::default();
        for (i, line) in text.lines().enumerate() {
            let bad = || {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "{}:{}: not a results line: {line:?}",
                        path.display(),
                        i + 1
                    ),
                )
            };
            let fields: Vec<&str> = line.split('\t').collect();
            match fields.as_slice() {
                [] | [""] => {}
                [first, ..] if first.starts_with('#') => {}
                ["meta", key, value] => {
                    results.meta.insert((*key).into(), (*value).into());
                }
                [group, metric, n, server, value] => results.rows.push(Row::new(
                    group,
                    metric,
                    n.parse().map_err(|_| bad())?,
                    server,
                    value.parse().map_err(|_| bad())?,
                )),
                _ => return Err(bad()),
            }
        }
        Ok(results)
    }

    /// The value of `group`/`metric` for `server` at `n`, if measured.
    fn get(
        &self,
        group: &str,
        metric: &str,
        n: usize,
        server: &str,
    ) -> Option<f64> {
        self.rows
            .iter()
            .find(|r| {
                r.group == group
                    && r.metric == metric
                    && r.n == n
                    && r.server == server
            })
            .map(|r| r.value)
    }

    /// The sizes measured for `group`/`metric`, smallest first.
    fn sizes(&self, group: &str, metric: &str) -> Vec<usize> {
        let mut sizes: Vec<usize> = self
            .rows
            .iter()
            .filter(|r| r.group == group && r.metric == metric)
            .map(|r| r.n)
            .collect();
        sizes.sort_unstable();
        sizes.dedup();
        sizes
    }

    fn meta(&self, key: &str) -> &str {
        self.meta.get(key).map_or("?", String::as_str)
    }
}

/// Where the results go: the results file and tables in one folder, the
/// plots in another (the book's images, for the page).
#[derive(Debug, Clone)]
pub struct Dirs {
    /// `results.tsv` and `tables.md`.
    pub results: PathBuf,
    /// The SVG plots.
    pub plots: PathBuf,
}

impl Dirs {
    fn of(&self, name: &str) -> PathBuf {
        match name.ends_with(".svg") {
            true => self.plots.join(name),
            false => self.results.join(name),
        }
    }
}

/// Remakes the tables and plots from the results file.
pub fn write(dirs: &Dirs) -> io::Result<()> {
    std::fs::create_dir_all(&dirs.plots)?;
    for (name, text) in render(&Results::load(&dirs.of(RESULTS))?)? {
        std::fs::write(dirs.of(name), text)?;
    }
    eprintln!(
        "tables written to {}, plots to {}",
        dirs.results.display(),
        dirs.plots.display()
    );
    Ok(())
}

/// Fails if a committed table or plot is not what the results file makes.
pub fn check(dirs: &Dirs) -> io::Result<()> {
    let mut stale = Vec::new();
    for (name, text) in render(&Results::load(&dirs.of(RESULTS))?)? {
        if std::fs::read_to_string(dirs.of(name)).ok().as_deref()
            != Some(text.as_str())
        {
            stale.push(name);
        }
    }
    if stale.is_empty() {
        return Ok(());
    }
    Err(io::Error::other(format!(
        "{stale:?} are not what {} makes; run `cargo run --release -- report` \
         in chapters/14-performance",
        dirs.of(RESULTS).display()
    )))
}

/// Every file made from the results: the tables, then the plots.
fn render(results: &Results) -> io::Result<Vec<(&'static str, String)>> {
    Ok(vec![
        (TABLES, tables(results)),
        (PLOTS[0], plot_rates(results).map_err(plot_error)?),
        (PLOTS[1], plot_cpu(results).map_err(plot_error)?),
        (PLOTS[2], plot_timers(results).map_err(plot_error)?),
    ])
}

fn plot_error<E: std::fmt::Display>(e: E) -> io::Error {
    io::Error::other(format!("plotting: {e}"))
}

/// A number as the tables show it: three significant digits or so.
fn num(value: Option<f64>) -> String {
    match value {
        None => "—".into(),
        Some(v) if v.is_nan() => "—".into(),
        Some(0.0) => "0".into(),
        Some(v) if v.abs() >= 1000.0 => {
            let rounded = v.round() as i64;
            let digits = rounded.abs().to_string();
            let mut out = String::new();
            for (i, c) in digits.chars().enumerate() {
                if i > 0 && (digits.len() - i).is_multiple_of(3) {
                    out.push(',');
                }
                out.push(c);
            }
            if rounded < 0 { format!("-{out}") } else { out }
        }
        Some(v) if v.abs() >= 100.0 => format!("{v:.0}"),
        Some(v) if v.abs() >= 10.0 => format!("{v:.1}"),
        Some(v) if v.abs() >= 1.0 => format!("{v:.2}"),
        Some(v) => format!("{v:.3}"),
    }
}

/// `a / b`, as a factor.
fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b != 0.0 => format!("{:.2}×", a / b),
        _ => "—".into(),
    }
}

/// CPU per round trip, user plus kernel.
fn cpu(results: &Results, n: usize, server: &str) -> Option<f64> {
    Some(
        results.get("echo", "user_us", n, server)?
            + results.get("echo", "kernel_us", n, server)?,
    )
}

const SHOWN: [&str; 6] = ["ch12", "ours", "pool", "tokio-ct", "tokio-mt", "monoio"];

/// A runtime's name in the tables and plots that compare runtimes (the
/// ladder's labels describe steps).
fn runtime_label(name: &str) -> &'static str {
    match name {
        "ours" => "ours (chapter 14)",
        "ch12" => "chapter 12",
        _ => servers::label(name),
    }
}

fn tables(r: &Results) -> String {
    let mut t = String::new();
    let conns = r.sizes("echo", "rate");
    let most = conns.last().copied().unwrap_or(0);
    let least = conns.first().copied().unwrap_or(0);
    let _ = writeln!(
        t,
        "<!-- Made by `cargo run --release -- report` from results.tsv: do not edit. -->"
    );
    let _ = writeln!(t, "<!-- ANCHOR: machine -->");
    let _ = writeln!(
        t,
        "Measured on {}, on {} ({} CPUs), Linux {}: each server pinned to CPU 0, the load (one \
         thread) on CPU 1, 64-byte round trips, medians of {} runs.",
        r.meta("date"),
        r.meta("cpu"),
        r.meta("cpus"),
        r.meta("kernel"),
        r.meta("repeats"),
    );
    let _ = writeln!(t, "<!-- ANCHOR_END: machine -->\n");

    let _ = writeln!(t, "<!-- ANCHOR: echo -->");
    let mut head = String::from("| server |");
    let mut rule = String::from("|---|");
    for n in &conns {
        let _ = write!(head, " round trips/s, {n} conn. |");
        rule.push_str("---:|");
    }
    head.push_str(&format!(
        " CPU µs/round trip at {most}: user + kernel | syscalls/round trip at {least} | at {most} | CQ overflows |"
    ));
    rule.push_str("---:|---:|---:|---:|");
    let _ = writeln!(t, "{head}\n{rule}");
    for s in servers::ALL {
        let mut line = format!("| {} |", s.label);
        for &n in &conns {
            let _ = write!(line, " {} |", num(r.get("echo", "rate", n, s.name)));
        }
        let overflows = conns
            .iter()
            .filter_map(|&n| r.get("echo", "cq_overflows", n, s.name))
            .reduce(f64::max);
        let _ = writeln!(
            line,
            " {} = {} + {} | {} | {} | {} |",
            num(cpu(r, most, s.name)),
            num(r.get("echo", "user_us", most, s.name)),
            num(r.get("echo", "kernel_us", most, s.name)),
            num(r.get("echo", "syscalls", least, s.name)),
            num(r.get("echo", "syscalls", most, s.name)),
            num(overflows),
        );
        t.push_str(&line);
    }
    let _ = writeln!(t, "<!-- ANCHOR_END: echo -->\n");

    let churn = r.sizes("churn", "rate").last().copied().unwrap_or(0);
    let idle = r
        .sizes("memory", "idle_connection")
        .last()
        .copied()
        .unwrap_or(0);
    let _ = writeln!(t, "<!-- ANCHOR: ladder -->");
    let mid = conns.get(conns.len() / 2).copied().unwrap_or(0);
    let _ = writeln!(
        t,
        "| step | round trips/s at {mid} | at {most} | CPU µs/round trip at {most} | syscalls/round trip at {least} | connections/s (connect, 1 round trip, close) | bytes per idle connection | CPU ms in 0.5 s idle |"
    );
    let _ = writeln!(t, "|---|---:|---:|---:|---:|---:|---:|---:|");
    for s in LADDER {
        let before = servers::before(s.name);
        let with =
            |value: Option<f64>, of: &dyn Fn(&str) -> Option<f64>| match before {
                Some(b) => format!("{} ({})", num(value), ratio(value, of(b))),
                None => num(value),
            };
        let _ = writeln!(
            t,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            s.label,
            with(r.get("echo", "rate", mid, s.name), &|b| r
                .get("echo", "rate", mid, b)),
            with(r.get("echo", "rate", most, s.name), &|b| r
                .get("echo", "rate", most, b)),
            with(cpu(r, most, s.name), &|b| cpu(r, most, b)),
            with(r.get("echo", "syscalls", least, s.name), &|b| r
                .get("echo", "syscalls", least, b)),
            with(r.get("churn", "rate", churn, s.name), &|b| r
                .get("churn", "rate", churn, b)),
            with(r.get("memory", "idle_connection", idle, s.name), &|b| {
                r.get("memory", "idle_connection", idle, b)
            }),
            num(r.get("idle", "cpu_ms", 500, s.name)),
        );
    }
    let _ = writeln!(t, "<!-- ANCHOR_END: ladder -->\n");

    let tasks = r.sizes("micro", "sleeps");
    let spawns = r.sizes("micro", "spawn").last().copied().unwrap_or(0);
    let asleep = r
        .sizes("micro", "sleep-memory")
        .last()
        .copied()
        .unwrap_or(0);
    let _ = writeln!(t, "<!-- ANCHOR: micro -->");
    let mut head = format!("| runtime | {spawns} spawns awaited, ms |");
    let mut rule = String::from("|---|---:|");
    for n in &tasks {
        let _ = write!(head, " {n} sleeps of 10 ms, ms |");
        rule.push_str("---:|");
    }
    let _ = writeln!(t, "{head} bytes per sleeping task |\n{rule}---:|");
    for name in SHOWN {
        let mut line = format!(
            "| {} | {} |",
            runtime_label(name),
            num(r.get("micro", "spawn", spawns, name))
        );
        for &n in &tasks {
            let _ = write!(line, " {} |", num(r.get("micro", "sleeps", n, name)));
        }
        let _ = writeln!(
            line,
            " {} |",
            num(r.get("micro", "sleep-memory", asleep, name))
        );
        t.push_str(&line);
    }
    let _ = writeln!(t, "<!-- ANCHOR_END: micro -->\n");

    let _ = writeln!(t, "<!-- ANCHOR: targets -->");
    let _ = writeln!(t, "| target | ours | against | met |");
    let _ = writeln!(t, "|---|---:|---:|:---:|");
    let mut target =
        |what: String, ours: Option<f64>, against: String, met: Option<bool>| {
            let met = match met {
                Some(true) => "yes",
                Some(false) => "**no**",
                None => "—",
            };
            let _ = writeln!(t, "| {what} | {} | {against} | {met} |", num(ours));
        };
    let ours_cpu = cpu(r, most, "ours");
    let tokio_cpu = cpu(r, most, "tokio-ct");
    target(
        format!("CPU per round trip at {most} connections ≤ 0.9 × tokio's (µs)"),
        ours_cpu,
        format!(
            "0.9 × {} = {}",
            num(tokio_cpu),
            num(tokio_cpu.map(|c| 0.9 * c))
        ),
        ours_cpu.zip(tokio_cpu).map(|(o, t)| o <= 0.9 * t),
    );
    for &n in conns.iter().filter(|&&n| n > 1) {
        let ours = r.get("echo", "rate", n, "ours");
        for peer in PEERS {
            let theirs = r.get("echo", "rate", n, peer.name);
            target(
                format!("round trips/s at {n} connections ≥ {}", peer.label),
                ours,
                num(theirs),
                ours.zip(theirs).map(|(o, t)| o >= t),
            );
        }
    }
    let spawn = |name| r.get("micro", "spawn", spawns, name);
    target(
        format!("{spawns} spawns awaited ≤ monoio's time (ms)"),
        spawn("ours"),
        num(spawn("monoio")),
        spawn("ours").zip(spawn("monoio")).map(|(o, m)| o <= m),
    );
    let most_sleeps = tasks.last().copied().unwrap_or(0);
    let sleeps = |name| r.get("micro", "sleeps", most_sleeps, name);
    target(
        format!("{most_sleeps} sleeps of 10 ms ≤ tokio's time (ms)"),
        sleeps("ours"),
        num(sleeps("tokio-ct")),
        sleeps("ours").zip(sleeps("tokio-ct")).map(|(o, t)| o <= t),
    );
    for (n, limit) in [(least, 1.0), (most, 0.05)] {
        let calls = r.get("echo", "syscalls", n, "ours");
        target(
            format!(
                "system calls per round trip at {n} connection{} ≤ {limit}",
                if n == 1 { "" } else { "s" }
            ),
            calls,
            num(Some(limit)),
            calls.map(|c| c <= limit),
        );
    }
    let _ = writeln!(t, "<!-- ANCHOR_END: targets -->");
    t
}

/// The colour of each server in every plot.
fn colour(name: &str) -> RGBColor {
    match name {
        "ours" => RGBColor(200, 40, 40),
        "ch12" => RGBColor(240, 150, 140),
        "pool" => RGBColor(150, 60, 170),
        "tokio-ct" => RGBColor(30, 90, 180),
        "tokio-mt" => RGBColor(120, 170, 230),
        "monoio" => RGBColor(40, 150, 70),
        _ => RGBColor(130, 130, 130),
    }
}

type Plot = Result<String, Box<dyn std::error::Error>>;

/// One line (with a dot at each point) per runtime shown, `points` giving
/// each runtime's, and the legend at `legend`.
fn draw_lines<'a, X, Y>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, Cartesian2d<X, Y>>,
    legend: SeriesLabelPosition,
    points: impl Fn(&str) -> Vec<(f64, f64)>,
) -> Result<(), Box<dyn std::error::Error>>
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    for name in SHOWN {
        let points = points(name);
        let c = colour(name);
        chart
            .draw_series(LineSeries::new(points.clone(), c.stroke_width(2)))?
            .label(runtime_label(name))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2))
            });
        chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, c.filled())))?;
    }
    chart
        .configure_series_labels()
        .label_font(("sans-serif", 13))
        .position(legend)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}

/// Round trips per second against connections, one line per runtime.
fn plot_rates(r: &Results) -> Plot {
    let conns = r.sizes("echo", "rate");
    let top = SHOWN
        .iter()
        .flat_map(|s| conns.iter().filter_map(|&n| r.get("echo", "rate", n, s)))
        .fold(1.0, f64::max);
    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, (720, 420)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                "Echo round trips per second (higher is better)",
                ("sans-serif", 20),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(
                -0.2f64..(conns.len() as f64 - 0.8),
                0f64..top * 1.1,
            )?;
        chart
            .configure_mesh()
            .label_style(("sans-serif", 14))
            .x_labels(conns.len())
            .x_label_formatter(&|x| {
                let i = x.round() as usize;
                match conns.get(i) {
                    Some(1) if (x - i as f64).abs() < 0.01 => "1 connection".into(),
                    Some(n) if (x - i as f64).abs() < 0.01 => {
                        format!("{n} connections")
                    }
                    _ => String::new(),
                }
            })
            .y_label_formatter(&|y| num(Some(*y)))
            .disable_x_mesh()
            .draw()?;
        draw_lines(&mut chart, SeriesLabelPosition::LowerRight, |name| {
            conns
                .iter()
                .enumerate()
                .filter_map(|(i, &n)| {
                    Some((i as f64, r.get("echo", "rate", n, name)?))
                })
                .collect()
        })?;
        root.present()?;
    }
    Ok(svg)
}

/// CPU per round trip at the most connections, user and kernel, per server.
fn plot_cpu(r: &Results) -> Plot {
    let most = r.sizes("echo", "rate").last().copied().unwrap_or(0);
    let servers = servers::ALL;
    let top = servers
        .iter()
        .filter_map(|s| cpu(r, most, s.name))
        .fold(1.0, f64::max);
    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, (720, 440)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!("Server CPU per round trip at {most} connections, µs (lower is better)"),
                ("sans-serif", 18),
            )
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(260)
            .build_cartesian_2d(0f64..top * 1.1, -0.5f64..(servers.len() as f64 - 0.5))?;
        chart
            .configure_mesh()
            .label_style(("sans-serif", 13))
            .y_labels(servers.len())
            .y_label_formatter(&|y| {
                let i = y.round() as usize;
                match servers.get(servers.len().wrapping_sub(i + 1)) {
                    Some(s) if (y - i as f64).abs() < 0.01 => s.label.to_string(),
                    _ => String::new(),
                }
            })
            .x_label_formatter(&|x| num(Some(*x)))
            .disable_y_mesh()
            .draw()?;
        let user = RGBColor(230, 150, 40);
        let kernel = RGBColor(70, 110, 160);
        let bar = |i: usize| (servers.len() - 1 - i) as f64;
        chart
            .draw_series(servers.iter().enumerate().filter_map(|(i, s)| {
                let u = r.get("echo", "user_us", most, s.name)?;
                Some(Rectangle::new(
                    [(0.0, bar(i) - 0.35), (u, bar(i) + 0.35)],
                    user.filled(),
                ))
            }))?
            .label("user space")
            .legend(move |(x, y)| {
                Rectangle::new([(x, y - 5), (x + 15, y + 5)], user.filled())
            });
        chart
            .draw_series(servers.iter().enumerate().filter_map(|(i, s)| {
                let u = r.get("echo", "user_us", most, s.name)?;
                let k = r.get("echo", "kernel_us", most, s.name)?;
                Some(Rectangle::new(
                    [(u, bar(i) - 0.35), (u + k, bar(i) + 0.35)],
                    kernel.filled(),
                ))
            }))?
            .label("kernel")
            .legend(move |(x, y)| {
                Rectangle::new([(x, y - 5), (x + 15, y + 5)], kernel.filled())
            });
        chart
            .configure_series_labels()
            .label_font(("sans-serif", 13))
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()?;
        root.present()?;
    }
    Ok(svg)
}

/// The values 1, 2 and 5 times a power of ten between `low` and `high`.
fn nice_ticks(low: f64, high: f64) -> Vec<f64> {
    let mut ticks = Vec::new();
    let mut decade = 10f64.powi(low.log10().floor() as i32);
    while decade <= high {
        for step in [1.0, 2.0, 5.0] {
            let tick = decade * step;
            if (low..=high).contains(&tick) {
                ticks.push(tick);
            }
        }
        decade *= 10.0;
    }
    ticks
}

/// Time for N concurrent 10 ms sleeps against N, log-log, per runtime.
fn plot_timers(r: &Results) -> Plot {
    let tasks = r.sizes("micro", "sleeps");
    let values: Vec<f64> = SHOWN
        .iter()
        .flat_map(|s| tasks.iter().filter_map(|&n| r.get("micro", "sleeps", n, s)))
        .collect();
    let top = values.iter().copied().fold(20.0, f64::max);
    let (first, last) = (
        tasks.first().copied().unwrap_or(1) as f64,
        tasks.last().copied().unwrap_or(10) as f64,
    );
    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, (720, 420)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                "N tasks sleeping 10 ms at once: ms until all are done",
                ("sans-serif", 20),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(
                (first * 0.8..last * 1.25).log_scale(),
                // Ticks at 1, 2 and 5 of each decade: plotters' own for a log
                // axis repeat a label at a decade's edge.
                (8f64..top * 1.3)
                    .log_scale()
                    .with_key_points(nice_ticks(8.0, top * 1.3)),
            )?;
        chart
            .configure_mesh()
            .label_style(("sans-serif", 14))
            .light_line_style(TRANSPARENT)
            .x_desc("tasks")
            .x_label_formatter(&|x| num(Some(*x)))
            .y_label_formatter(&|y| format!("{y:.0}"))
            .draw()?;
        draw_lines(&mut chart, SeriesLabelPosition::UpperLeft, |name| {
            tasks
                .iter()
                .filter_map(|&n| {
                    Some((n as f64, r.get("micro", "sleeps", n, name)?))
                })
                .collect()
        })?;
        root.present()?;
    }
    Ok(svg)
}
