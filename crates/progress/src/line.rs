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
            // A tool that reports nothing (mke2fs): only that it runs.
            _ if done == 0 && counter.files() == 0 => "running".to_string(),
            _ => bytes(done),
        }];
        match totals.files {
            Some(total) => parts.push(format!("{} of {}", counter.files(), files(total))),
            None if counter.files() > 0 => parts.push(files(counter.files())),
            None => {}
        }
        if done > 0 {
            parts.push(rate(done, elapsed));
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn text(line: Line) -> String {
        line.text.split_once("] ").map(|(_, t)| t.to_string()).unwrap_or_default()
    }

    #[test]
    fn lines_say_what_is_done_of_what() {
        let started = Instant::now();
        let counter = Counter::detached();
        counter.add_bytes(512 << 20);
        counter.add_files(3402);
        let totals = Totals { bytes: Some(1 << 31), files: Some(12000) };
        let line =
            Line::at(started).text("20-store: writing squashfs").running(&counter, totals, Duration::from_secs(5));
        assert_eq!(
            text(line),
            "20-store: writing squashfs: 512.0 MiB of 2.0 GiB (25%), 3402 of 12000 files, 107.4 MB/s, 5.0 s"
        );
        let idle = Counter::detached();
        let line = Line::at(started).text("20-root: mke2fs").running(&idle, Totals::default(), Duration::from_secs(10));
        assert_eq!(text(line), "20-root: mke2fs: running, 10.0 s");
        let line = Line::at(started).text("a").starting(Totals { bytes: Some(1024), files: Some(1) });
        assert_eq!(text(line), "a: 1.0 KiB in 1 file");
        let line = Line::at(started).text("a").done(&counter, Duration::from_secs(2));
        assert_eq!(text(line), "a: done, 512.0 MiB, 3402 files in 2.0 s (268.4 MB/s)");
        assert_eq!(text(Line::at(started).text("a").failed(Duration::from_millis(1500))), "a: failed after 1.5 s");
        assert!(!Line::at(started).text("a").text.contains('\r'));
    }
}
