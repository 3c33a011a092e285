//! Every write to stdout goes through here, and is checked.

use std::io::Write;

/// Writes `text` to stdout and flushes it.
pub fn print(text: &str) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()
}

/// Writes `text` and a newline to stdout.
pub fn println(text: &str) -> std::io::Result<()> {
    print(&format!("{text}\n"))
}
