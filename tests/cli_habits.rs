//! The real binary's habits: cancelling, JSON that any parser reads exactly, versions,
//! completions and man pages, the page's server, the plan in the log, and what a build without a
//! feature says.

use crate::common;

use assert_cmd::Command;
use predicates::prelude::*;
use predicates::str::contains;

fn gpusum() -> Command {
    Command::cargo_bin("gpusum").expect("the gpusum binary is built")
}

#[cfg(unix)]
#[test]
fn ctrl_c_cancels_a_long_sum_with_exit_130() {
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_gpusum"))
        .args(["--backend", "cpu", "1", "1_000_000_000_000_000"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    let killed = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130));
    assert!(output.stdout.is_empty());
    assert!(String::from_utf8_lossy(&output.stderr).contains("gpusum: summing failed: cancelled"));
}

/// Fails if `value` holds an integer that a parser reading numbers as doubles would round.
pub fn assert_exact_for_doubles(value: &serde_json::Value, context: &str) {
    match value {
        serde_json::Value::Number(number) => {
            if let Some(integer) = number.as_u64() {
                assert!(integer <= 1 << 53, "{context}: {integer} would be rounded");
            }
            if let Some(integer) = number.as_i64() {
                assert!(
                    integer.unsigned_abs() <= 1 << 53,
                    "{context}: {integer} would be rounded"
                );
            }
        }
        serde_json::Value::Array(items) => items
            .iter()
            .for_each(|v| assert_exact_for_doubles(v, context)),
        serde_json::Value::Object(map) => map
            .iter()
            .for_each(|(key, v)| assert_exact_for_doubles(v, &format!("{context}.{key}"))),
        _ => {}
    }
}

#[test]
fn json_survives_a_parser_that_reads_numbers_as_doubles() {
    let args = [
        "--json",
        "--backend",
        "cpu",
        "9223372036854775000",
        "9223372036854775807",
    ];
    let output = gpusum().args(args).output().unwrap();
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(value["end"], "9223372036854775807");
    assert_eq!(value["sum"], "7452484605778658526028");
    let bench_backends = if common::adapter_backends().is_empty() {
        "seq"
    } else {
        "seq,gpu"
    };
    for command in [
        &args[..],
        &["adapters", "--json"],
        &[
            "selftest",
            "--json",
            "--seed",
            "18446744073709551615",
            "--allow-cpu-only",
        ],
        &[
            "bench",
            "--json",
            "--sizes",
            "2^10",
            "--backends",
            bench_backends,
        ],
    ] {
        let output = gpusum().args(command).output().unwrap();
        let value: serde_json::Value =
            serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{command:?}: {e}"));
        assert_eq!(value["schema"], 1, "{command:?}");
        assert_exact_for_doubles(&value, &format!("{command:?}"));
    }
    // JavaScript's JSON.parse is such a parser; node is on CI's machine.
    let script =
        "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>console.log(JSON.parse(s).end))";
    let node = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("\"$0\" {} | node -e \"{script}\"", args.join(" ")))
        .arg(env!("CARGO_BIN_EXE_gpusum"))
        .output()
        .expect("node runs");
    assert_eq!(
        String::from_utf8_lossy(&node.stdout).trim(),
        "9223372036854775807"
    );
}

#[test]
fn cli_habits_versions_completions_man_and_quiet() {
    gpusum()
        .arg("--version")
        .assert()
        .success()
        .stdout(contains("gpusum 0.").and(contains("(wgpu 30.")));
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        gpusum()
            .args(["completions", shell])
            .assert()
            .success()
            .stdout(contains("gpusum").and(contains("selftest")));
    }
    gpusum()
        .arg("man")
        .assert()
        .success()
        .stdout(contains(".TH gpusum 1").and(contains("selftest")));
    gpusum()
        .arg("--help")
        .assert()
        .success()
        .stdout(contains("Environment:").and(contains("Examples:")));
    // -v and -q before or after a subcommand.
    for args in [
        &[
            "-v",
            "selftest",
            "--seed",
            "1",
            "--allow-cpu-only",
            "--adapter",
            "no-such",
        ][..],
        &[
            "selftest",
            "-q",
            "--seed",
            "1",
            "--allow-cpu-only",
            "--adapter",
            "no-such",
        ],
    ] {
        gpusum()
            .args(args)
            .assert()
            .stderr(contains("invalid value").not());
    }
    gpusum()
        .env("WGPU_BACKEND", "none")
        .args(["-q", "1", "20"])
        .assert()
        .success()
        .stdout("210\n")
        .stderr("");
    gpusum()
        .args(["1", "20", "selftest"])
        .assert()
        .code(2)
        .stderr(contains("a subcommand takes no bounds"));
}

#[test]
fn web_names_the_build_command_until_the_page_is_built() {
    let empty = std::env::temp_dir().join(format!("gpusum-web-empty-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    gpusum()
        .args(["web", "--port", "0", "--dir"])
        .arg(&empty)
        .assert()
        .code(1)
        .stderr(contains("run web/build.sh first"));
}

#[test]
fn web_serves_the_page_with_the_types_a_browser_needs() {
    use std::io::{BufRead, BufReader, Read, Write};

    let dir = std::env::temp_dir().join(format!("gpusum-web-page-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("index.html"), "<!doctype html><title>t</title>").unwrap();
    std::fs::write(dir.join("gpusum_web_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
    /// Stopped however the test ends.
    struct Server(std::process::Child);
    impl Drop for Server {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut server = Server(
        std::process::Command::new(assert_cmd::cargo::cargo_bin("gpusum"))
            .args(["web", "--port", "0", "--dir"])
            .arg(&dir)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut url = String::new();
    BufReader::new(server.0.stdout.take().unwrap())
        .read_line(&mut url)
        .unwrap();
    let address = url
        .trim()
        .strip_prefix("http://")
        .and_then(|rest| rest.strip_suffix('/'))
        .unwrap_or_else(|| panic!("not a URL: {url:?}"))
        .to_owned();
    let get = |path: &str| {
        let mut stream = std::net::TcpStream::connect(&address).unwrap();
        write!(stream, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).unwrap();
        String::from_utf8_lossy(&response).into_owned()
    };
    let page = get("/?start=1&end=20");
    let wasm = get("/gpusum_web_bg.wasm");
    let escape = get("/../Cargo.toml");
    drop(server);
    assert!(
        page.starts_with("HTTP/1.1 200") && page.contains("text/html"),
        "{page}"
    );
    assert!(
        wasm.contains("Content-Type: application/wasm\r\n") && wasm.ends_with("\0asm\u{1}\0\0\0"),
        "{wasm}"
    );
    assert!(escape.starts_with("HTTP/1.1 404"), "{escape}");
}

#[test]
fn range_options_before_a_subcommand_are_usage_errors_not_dropped() {
    for args in [
        &[
            "--backend",
            "cpu",
            "file",
            "tests/fixtures/raw/u32_1_to_1000.bin",
        ][..],
        &["--json", "adapters"],
        &["--timeout", "5", "selftest"],
    ] {
        gpusum()
            .args(args)
            .assert()
            .code(2)
            .stdout("")
            .stderr(contains("write it after the subcommand"));
    }
    gpusum()
        .args(["file", "--backend", "cpu", "--dtype", "u32"])
        .arg("tests/fixtures/raw/u32_1_to_1000.bin")
        .assert()
        .success()
        .stdout("500500\n");
}

#[test]
fn the_plan_shows_in_the_log_and_in_json_and_long_sums_say_so_first() {
    gpusum()
        .env("RUST_LOG", "info")
        .env("GPUSUM_PROFILE", "none")
        .args(["1", "20"])
        .assert()
        .success()
        .stdout("210\n")
        .stderr(contains(
            "plan: seq: 20 elements finish on one CPU thread in about",
        ));
    let output = gpusum()
        .env("GPUSUM_PROFILE", "none")
        .args(["--json", "--backend", "cpu", "1", "20"])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let reason = json["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("cpu: the CPU was chosen for 20 elements, about "),
        "{reason}"
    );
    // An estimate past a minute is said before the sum starts (here it then times out).
    gpusum()
        .env("GPUSUM_PROFILE", "none")
        .args([
            "--backend",
            "seq",
            "--timeout",
            "0.2",
            "1",
            "1_000_000_000_000_000",
        ])
        .assert()
        .code(1)
        .stderr(
            contains("gpusum: a long sum, seq: one CPU thread was chosen")
                .and(contains("gave up after")),
        );
    gpusum()
        .args(["--", "-9223372036854775808", "9223372036854775807"])
        .assert()
        .code(1)
        .stderr(contains("the range holds 18446744073709551616 elements"));
}

#[cfg(not(feature = "mpi"))]
#[test]
fn mpi_without_the_feature_says_how_to_build_it() {
    gpusum()
        .args(["--mpi", "1", "20"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicates::str::contains(
            "cargo build --release --features mpi",
        ));
}
