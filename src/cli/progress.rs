//! What a long sum shows on a terminal: a progress bar with an ETA, and Ctrl-C as a cancel.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

/// A flag that Ctrl-C sets; the library stops at its next check.
pub fn cancel_on_ctrl_c() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let handler_flag = Arc::clone(&flag);
    // Without a handler Ctrl-C still ends the process; only the clean message is lost.
    let _ = ctrlc::set_handler(move || handler_flag.store(true, Ordering::Relaxed));
    flag
}

/// A progress bar on stderr, shown only on a terminal and only once a sum has run for a while.
/// Its ETA says so when the deadline will stop the sum first.
pub struct Progress {
    started: Instant,
    deadline: Option<Instant>,
    bar: OnceLock<ProgressBar>,
    enabled: bool,
}

impl Progress {
    const SHOW_AFTER_SECONDS: f64 = 0.5;
    const STEPS: u64 = 10_000;

    pub fn new(deadline: Option<Instant>, wanted: bool) -> Self {
        Self {
            started: Instant::now(),
            deadline,
            bar: OnceLock::new(),
            enabled: wanted && std::io::stderr().is_terminal(),
        }
    }

    pub fn update(&self, done: u128, total: u128) {
        if !self.enabled
            || (self.bar.get().is_none()
                && self.started.elapsed().as_secs_f64() < Self::SHOW_AFTER_SECONDS)
        {
            return;
        }
        let bar = self.bar.get_or_init(|| {
            let bar = ProgressBar::new(Self::STEPS);
            let style =
                ProgressStyle::with_template("{bar:40} {percent:>3}% {elapsed_precise} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar
        });
        let rate = done as f64 / self.started.elapsed().as_secs_f64();
        if total == 0 {
            // A stream of unknown length: how far, and how fast.
            bar.set_message(format!("{done} elements, {rate:.2e} elements/s"));
            return;
        }
        bar.set_position((done * Self::STEPS as u128 / total) as u64);
        let eta = total.saturating_sub(done) as f64 / rate.max(1.0);
        bar.set_message(eta_message(
            rate,
            eta,
            self.deadline.map(|d| d - Instant::now()),
        ));
    }

    pub fn finish(&self) {
        if let Some(bar) = self.bar.get() {
            bar.finish_and_clear();
        }
    }
}

/// A spinner on stderr with a changing message, only on a terminal.
pub fn spinner() -> Option<ProgressBar> {
    std::io::stderr().is_terminal().then(|| {
        let spinner = ProgressBar::new_spinner();
        spinner.enable_steady_tick(std::time::Duration::from_millis(120));
        spinner
    })
}

/// "1.2e9 elements/s, eta 42 s", or, when the deadline comes first, what stops the sum then.
fn eta_message(rate: f64, eta: f64, left: Option<std::time::Duration>) -> String {
    match left {
        Some(left) if left.as_secs_f64() < eta => format!(
            "{rate:.2e} elements/s, eta {}, but --timeout stops it in {}",
            human_duration(eta),
            human_duration(left.as_secs_f64())
        ),
        _ => format!("{rate:.2e} elements/s, eta {}", human_duration(eta)),
    }
}

/// Seconds as the largest sensible unit: "42 s", "3.5 h", "2.1e6 years".
fn human_duration(seconds: f64) -> String {
    const UNITS: [(&str, f64); 4] = [
        ("years", 365.25 * 86400.0),
        ("days", 86400.0),
        ("h", 3600.0),
        ("min", 60.0),
    ];
    match UNITS.iter().find(|(_, size)| seconds >= *size) {
        Some((name, size)) if seconds / size >= 1e4 => format!("{:.1e} {name}", seconds / size),
        Some((name, size)) => format!("{:.1} {name}", seconds / size),
        None => format!("{seconds:.0} s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_eta_says_when_the_timeout_comes_first() {
        let left = std::time::Duration::from_secs(30);
        assert_eq!(
            eta_message(1e9, 330.0, Some(left)),
            "1.00e9 elements/s, eta 5.5 min, but --timeout stops it in 30 s"
        );
        assert_eq!(
            eta_message(1e9, 20.0, Some(left)),
            "1.00e9 elements/s, eta 20 s"
        );
        assert_eq!(eta_message(1e9, 20.0, None), "1.00e9 elements/s, eta 20 s");
    }
}
