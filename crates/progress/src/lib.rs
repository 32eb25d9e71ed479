//! Progress reports of a build: each stage and each partition's step says
//! what it does when it starts, how far it is while it runs (every
//! `interval`, five seconds by default: never silent for ten), and what
//! it did when it ends. Where stderr is not a terminal (Nix logs) these are
//! plain lines, never carriage returns; on a terminal a bar (indicatif)
//! shows the same, and no plain lines are printed; [`Mode::Quiet`] shows
//! nothing.
//!
//! Writers update a [`Counter`] (bytes and files done); a reporter thread
//! reads it. Steps run one at a time, in the order the build takes them.
//! This crate does not know what a partition or filesystem is: it gets
//! labels and totals.

mod counter;
mod line;
pub mod units;

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub use counter::Counter;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use line::Line;

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Quiet,
    /// Plain lines on stderr.
    Lines,
    /// A bar on stderr, a terminal.
    Bar,
}

impl Mode {
    /// A bar when stderr is a terminal, plain lines otherwise.
    pub fn for_stderr(quiet: bool) -> Mode {
        if quiet {
            Mode::Quiet
        } else if std::io::stderr().is_terminal() {
            Mode::Bar
        } else {
            Mode::Lines
        }
    }
}

/// The default time between two lines of a running step.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);

/// What a step will have done when it ends, where it is known.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub bytes: Option<u64>,
    pub files: Option<u64>,
}

struct Active {
    label: String,
    totals: Totals,
    counter: Counter,
    started: Instant,
    last_line: Mutex<Instant>,
    bar: Option<ProgressBar>,
}

struct Shared {
    mode: Mode,
    interval: Duration,
    started: Instant,
    current: Mutex<Option<Arc<Active>>>,
    stop: AtomicBool,
    wake: Condvar,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The reporter of one build.
pub struct Progress {
    shared: Arc<Shared>,
    ticker: Option<JoinHandle<()>>,
}

impl Progress {
    /// Starts reporting in `mode`; a running step reports every `interval`.
    pub fn start(mode: Mode, interval: Duration) -> Progress {
        let shared = Arc::new(Shared {
            mode,
            interval,
            started: Instant::now(),
            current: Mutex::new(None),
            stop: AtomicBool::new(false),
            wake: Condvar::new(),
        });
        let ticker = (mode != Mode::Quiet).then(|| {
            let shared = Arc::clone(&shared);
            std::thread::spawn(move || tick(&shared))
        });
        Progress { shared, ticker }
    }

    /// A reporter that shows nothing.
    pub fn quiet() -> Progress {
        Progress::start(Mode::Quiet, DEFAULT_INTERVAL)
    }

    /// A stage that is done at once: one line (nothing on a terminal).
    pub fn note(&self, text: &str) {
        if self.shared.mode == Mode::Lines {
            Line::at(self.shared.started).text(text).print();
        }
    }

    /// Runs `work` as a step: its line says whether it was done or failed.
    pub fn run<T, E>(
        &self,
        label: impl Into<String>,
        totals: Totals,
        work: impl FnOnce(&Counter) -> Result<T, E>,
    ) -> Result<T, E> {
        let step = self.step(label, totals);
        let result = work(step.counter());
        if result.is_ok() {
            step.done();
        }
        result
    }

    /// Starts a step; [`Step::done`] ends it, dropping it means it failed.
    pub fn step(&self, label: impl Into<String>, totals: Totals) -> Step {
        let label = label.into();
        let now = Instant::now();
        let bar = (self.shared.mode == Mode::Bar).then(|| new_bar(&label, totals));
        if self.shared.mode == Mode::Lines {
            Line::at(self.shared.started).text(&label).starting(totals).print();
        }
        let active = Arc::new(Active {
            label,
            totals,
            counter: Counter::default(),
            started: now,
            last_line: Mutex::new(now),
            bar,
        });
        *lock(&self.shared.current) = Some(Arc::clone(&active));
        Step { active, shared: Arc::clone(&self.shared), done: false }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        self.shared.wake.notify_all();
        if let Some(ticker) = self.ticker.take() {
            let _ = ticker.join();
        }
    }
}

/// One running step: the writer updates its [`Counter`].
pub struct Step {
    active: Arc<Active>,
    shared: Arc<Shared>,
    done: bool,
}

impl Step {
    /// The step succeeded.
    pub fn done(mut self) {
        self.done = true;
    }

    pub fn counter(&self) -> &Counter {
        &self.active.counter
    }
}

impl Drop for Step {
    fn drop(&mut self) {
        let mut current = lock(&self.shared.current);
        if current.as_ref().is_some_and(|a| Arc::ptr_eq(a, &self.active)) {
            *current = None;
        }
        drop(current);
        let a = &self.active;
        match (&a.bar, self.shared.mode) {
            (Some(bar), _) if self.done => {
                update_bar(bar, a);
                bar.finish();
            }
            (Some(bar), _) => bar.abandon_with_message("failed"),
            (None, Mode::Lines) if self.done => {
                Line::at(self.shared.started).text(&a.label).done(&a.counter, a.started.elapsed()).print();
            }
            (None, Mode::Lines) => {
                Line::at(self.shared.started).text(&a.label).failed(a.started.elapsed()).print();
            }
            (None, _) => {}
        }
    }
}

/// The reporter thread: wakes four times a second.
fn tick(shared: &Shared) {
    let mut guard = lock(&shared.current);
    while !shared.stop.load(Ordering::Relaxed) {
        guard = shared
            .wake
            .wait_timeout(guard, Duration::from_millis(250))
            .map(|(g, _)| g)
            .unwrap_or_else(|e| e.into_inner().0);
        let Some(active) = guard.as_ref() else { continue };
        match (shared.mode, &active.bar) {
            (Mode::Bar, Some(bar)) => update_bar(bar, active),
            (Mode::Lines, _) => {
                let mut last = lock(&active.last_line);
                if last.elapsed() >= shared.interval {
                    *last = Instant::now();
                    let line = Line::at(shared.started).text(&active.label);
                    line.running(&active.counter, active.totals, active.started.elapsed()).print();
                }
            }
            _ => {}
        }
    }
}

fn new_bar(label: &str, totals: Totals) -> ProgressBar {
    let bar = match totals.bytes {
        Some(total) => ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr()),
        None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
    };
    let template = if totals.bytes.is_some() {
        "{prefix:.bold} [{bar:30}] {bytes}/{total_bytes} {msg} {binary_bytes_per_sec} {elapsed}"
    } else {
        "{prefix:.bold} {spinner} {bytes} {msg} {elapsed}"
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix(label.to_string());
    bar
}

fn update_bar(bar: &ProgressBar, active: &Active) {
    bar.set_position(active.counter.bytes());
    let files = active.counter.files();
    match active.totals.files {
        Some(total) => bar.set_message(format!("{files}/{total} files")),
        None if files > 0 => bar.set_message(format!("{files} files")),
        None => {}
    }
}
