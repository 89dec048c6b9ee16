//! What `cleom` shows while it works: one progress line on a terminal, nothing when piped.

use std::io::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use cleom_core::export::{ExportProgress, ExportStep};

/// Redraws at most this often.
const EVERY: Duration = Duration::from_millis(100);

pub struct Progress {
    terminal: bool,
    last: Mutex<Option<Instant>>,
}

impl Progress {
    pub fn new(terminal: bool) -> Progress {
        Progress {
            terminal,
            last: Mutex::new(None),
        }
    }

    pub fn show(&self, p: ExportProgress) {
        if !self.terminal {
            return;
        }
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let done = p.items_done == p.items_total;
        if !done && last.is_some_and(|at| at.elapsed() < EVERY) {
            return;
        }
        *last = Some(Instant::now());
        let what = match p.step {
            ExportStep::Downloading => "Downloading videos",
            ExportStep::Generations => "Generations",
            ExportStep::Videos => "Videos",
            ExportStep::Finishing => "Finishing",
        };
        let bytes = if p.step == ExportStep::Downloading {
            format!("{} downloaded", size(p.bytes_downloaded))
        } else {
            format!("{} written", size(p.bytes_written))
        };
        eprint!(
            "\r\x1b[2K{what}: {} of {} · {bytes}",
            p.items_done, p.items_total
        );
        let _ = std::io::stderr().flush();
    }

    /// Removes the progress line.
    pub fn clear(&self) {
        if self.terminal {
            eprint!("\r\x1b[2K");
            let _ = std::io::stderr().flush();
        }
    }
}

/// A byte count for people: `12.3 MB`.
pub fn size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::size;

    #[test]
    fn sizes_read_like_a_file_manager() {
        assert_eq!(size(0), "0 bytes");
        assert_eq!(size(999), "999 bytes");
        assert_eq!(size(1500), "1.5 KB");
        assert_eq!(size(12_345_678), "12.3 MB");
    }
}
