//! One plain progress line: `nix-repart: [  12.3 s] <label>: <what>`,
//! the time since the build started first, so that a log shows the gaps.

use std::time::{Duration, Instant};

use crate::units::{bytes, rate, seconds};
use crate::{Counter, Totals};

pub struct Line {
    text: String,
}

impl Line {
    pub fn at(started: Instant) -> Line {
        Line { text: format!("nix-repart: [{:>7.1} s] ", started.elapsed().as_secs_f64()) }
    }

    pub fn text(mut self, text: &str) -> Line {
        self.text.push_str(text);
        self
    }

    /// `: 1.2 GiB in 12000 files`
    pub fn starting(mut self, totals: Totals) -> Line {
        let mut parts = Vec::new();
        if let Some(b) = totals.bytes {
            parts.push(bytes(b));
        }
        if let Some(f) = totals.files {
            parts.push(files(f));
        }
        if !parts.is_empty() {
            self.text.push_str(": ");
            self.text.push_str(&parts.join(" in "));
        }
        self
    }

    /// `: 512.0 MiB of 1.2 GiB (41%), 3402 of 12000 files, 85.1 MB/s, 5.0 s`
    pub fn running(mut self, counter: &Counter, totals: Totals, elapsed: Duration) -> Line {
        let done = counter.bytes();
        let mut parts = vec![match totals.bytes {
            Some(total) if total > 0 => {
                format!("{} of {} ({}%)", bytes(done), bytes(total), done.saturating_mul(100) / total)
            }
            _ => bytes(done),
        }];
        match totals.files {
            Some(total) => parts.push(format!("{} of {}", counter.files(), files(total))),
            None if counter.files() > 0 => parts.push(files(counter.files())),
            None => {}
        }
        parts.push(rate(done, elapsed));
        parts.push(seconds(elapsed));
        self.text.push_str(": ");
        self.text.push_str(&parts.join(", "));
        self
    }

    /// `: done, 1.2 GiB, 12000 files in 12.0 s (100.1 MB/s)`
    pub fn done(mut self, counter: &Counter, elapsed: Duration) -> Line {
        let mut text = String::from(": done");
        if counter.bytes() > 0 {
            text.push_str(&format!(", {}", bytes(counter.bytes())));
        }
        if counter.files() > 0 {
            text.push_str(&format!(", {}", files(counter.files())));
        }
        text.push_str(&format!(" in {}", seconds(elapsed)));
        if counter.bytes() > 0 {
            text.push_str(&format!(" ({})", rate(counter.bytes(), elapsed)));
        }
        self.text.push_str(&text);
        self
    }

    /// `: failed after 1.2 s`
    pub fn failed(mut self, elapsed: Duration) -> Line {
        self.text.push_str(&format!(": failed after {}", seconds(elapsed)));
        self
    }

    /// Prints the line to stderr, whole.
    pub fn print(self) {
        eprintln!("{}", self.text);
    }
}

/// `1 file`, `2 files`.
fn files(n: u64) -> String {
    if n == 1 {
        "1 file".to_string()
    } else {
        format!("{n} files")
    }
}
