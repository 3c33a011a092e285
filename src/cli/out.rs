//! Every write the binary makes goes through here. Writes to stdout are checked: a broken pipe
//! ends the program quietly with [`BROKEN_PIPE`], any other failure (a closed stdout, a full
//! disk) is an error. Writes to stderr are best effort: there is nowhere left to complain.

use std::fmt;
use std::io::{self, Write};

/// The exit code of a process killed by SIGPIPE (128 + 13), what `head`-friendly tools report
/// when the reader goes away.
pub const BROKEN_PIPE: u8 = 141;

/// Standard output could not take what was written.
#[derive(Debug)]
pub struct WriteError(pub io::Error);

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot write to standard output: {}", self.0)
    }
}

impl std::error::Error for WriteError {}

impl WriteError {
    /// Whether the reader closed the pipe, which ends the program quietly.
    pub fn is_broken_pipe(&self) -> bool {
        self.0.kind() == io::ErrorKind::BrokenPipe
    }
}

/// Writes `text` to stdout, all of it, unbuffered.
pub fn print(text: &str) -> Result<(), WriteError> {
    write_stdout(text.as_bytes()).map_err(WriteError)
}

/// Writes `text` and a newline to stdout.
pub fn println(text: &str) -> Result<(), WriteError> {
    print(&format!("{text}\n"))
}

/// Writes `text` to stderr, ignoring failures.
pub fn eprint(text: &str) {
    let _ = io::stderr().lock().write_all(text.as_bytes());
}

fn write_stdout(bytes: &[u8]) -> io::Result<()> {
    if closed::stdout_was_closed() {
        return Err(io::Error::other("it is closed"));
    }
    let mut stdout = io::stdout().lock();
    stdout.write_all(bytes)?;
    stdout.flush()
}

/// Whether the process started with descriptor 1 closed (`gpusum 1 20 >&-`). Rust's runtime
/// quietly reopens a closed stdout as /dev/null before `main`, which would lose the result without
/// a word, so the descriptor is looked at earlier, from the ELF initializers.
#[cfg(any(target_os = "linux", target_os = "android"))]
mod closed {
    use std::sync::atomic::{AtomicBool, Ordering};

    static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

    unsafe extern "C" {
        fn fcntl(fd: i32, cmd: i32, ...) -> i32;
    }
    const F_GETFD: i32 = 1;

    extern "C" fn look_at_stdout() {
        // SAFETY: F_GETFD only reads descriptor 1's flags; -1 means it is not open.
        if unsafe { fcntl(1, F_GETFD) } == -1 {
            STDOUT_CLOSED.store(true, Ordering::Relaxed);
        }
    }

    #[used]
    #[unsafe(link_section = ".init_array")]
    static LOOK_AT_STDOUT: extern "C" fn() = look_at_stdout;

    pub fn stdout_was_closed() -> bool {
        STDOUT_CLOSED.load(Ordering::Relaxed)
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
mod closed {
    pub fn stdout_was_closed() -> bool {
        false
    }
}

/// Prints to stderr without panicking when it cannot.
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::cli::out::eprint(&format!("{}\n", format_args!($($arg)*)))
    };
}

pub(crate) use say;
