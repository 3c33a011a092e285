//! Every write to stdout is checked, through the real binary: a reader that goes away ends the
//! program quietly with 141, a full disk or a closed stdout is an error with exit 1. None panics.

use std::process::{Command, Stdio};

const GPUSUM: &str = env!("CARGO_BIN_EXE_gpusum");

/// Commands that print to stdout, each in one or several writes.
const COMMANDS: &[&[&str]] = &[
    &["--backend", "cpu", "1", "20"],
    &["--backend", "cpu", "--json", "1", "20"],
    &["selftest", "--seed", "5", "--allow-cpu-only"],
    &["bench", "--json", "--sizes", "2^10", "--backends", "seq"],
    &["bench", "--sizes", "2^10", "--backends", "seq"],
    &["--version"],
    &["--help"],
];

fn assert_no_panic(stderr: &[u8], args: &[&str]) {
    let stderr = String::from_utf8_lossy(stderr);
    assert!(!stderr.contains("panicked"), "{args:?} panicked:\n{stderr}");
}

#[cfg(unix)]
#[test]
fn a_reader_that_goes_away_ends_the_program_quietly_with_141() {
    for args in COMMANDS {
        let mut command = Command::new(GPUSUM);
        command.args(*args).stderr(Stdio::piped());
        let output = with_a_reader_gone(&mut command).output().unwrap();
        assert_no_panic(&output.stderr, args);
        assert_eq!(output.status.code(), Some(141), "{args:?}");
        assert!(
            output.stderr.is_empty(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// Makes the program's stdout a pipe whose reading end is closed before it starts. The pipe is
/// made in the child, between fork and exec: the reading end of one made here could be held for a
/// moment by a child another test thread forks, and a quick `--help` then writes without error.
#[cfg(unix)]
fn with_a_reader_gone(command: &mut Command) -> &mut Command {
    use std::os::unix::process::CommandExt as _;
    let broken_stdout = || {
        let mut ends = [0; 2];
        // SAFETY: pipe, dup2 and close are async-signal-safe, and act on this child's own fds.
        unsafe {
            if libc::pipe(ends.as_mut_ptr()) != 0 || libc::dup2(ends[1], 1) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            libc::close(ends[0]);
            libc::close(ends[1]);
        }
        Ok(())
    };
    // SAFETY: the closure only makes system calls that are safe between fork and exec.
    unsafe { command.pre_exec(broken_stdout) }
}

#[cfg(target_os = "linux")]
#[test]
fn a_full_disk_is_an_error_with_exit_1() {
    for args in COMMANDS {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let output = Command::new(GPUSUM)
            .args(*args)
            .stdout(full)
            .output()
            .unwrap();
        assert_no_panic(&output.stderr, args);
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("gpusum: cannot write to standard output: No space left on device"),
            "{args:?}: {stderr}"
        );
    }
}

#[cfg(target_os = "linux")]
#[test]
fn a_closed_stdout_is_an_error_with_exit_1_not_a_silent_loss() {
    for args in COMMANDS {
        let output = Command::new("sh")
            .arg("-c")
            .arg("exec \"$0\" \"$@\" >&-")
            .arg(GPUSUM)
            .args(*args)
            .output()
            .unwrap();
        assert_no_panic(&output.stderr, args);
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("gpusum: cannot write to standard output: it is closed"),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn a_closed_stderr_or_a_broken_stderr_pipe_does_not_panic() {
    // A usage error writes only to stderr; with nobody reading it, the exit code still says so.
    let mut child = Command::new(GPUSUM)
        .args(["20", "1"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    assert_eq!(child.wait().unwrap().code(), Some(2));
}
