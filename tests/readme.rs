//! Every `$ gpusum ...` example the README shows is run through the real binary, and what it
//! prints must match what the README says, timings aside. Examples that name adapters are compared
//! only where this machine has the same adapters (the CI-class machine does; CI requires it).

use crate::common;

use std::process::Command;

const GPUSUM: &str = env!("CARGO_BIN_EXE_gpusum");

/// One example: the arguments after `gpusum`, and the lines shown after the command.
struct Example {
    args: Vec<String>,
    shown: Vec<String>,
}

fn examples() -> Vec<Example> {
    let readme = include_str!("../README.md");
    let mut examples: Vec<Example> = Vec::new();
    let mut in_text = false;
    // Lines after a command belong to it until the next command or the end of the block.
    let mut current = None;
    for line in readme.lines() {
        if line.starts_with("```") {
            in_text = line == "```text";
            current = None;
            continue;
        }
        if !in_text {
            continue;
        }
        if let Some(command) = line.strip_prefix("$ gpusum") {
            examples.push(Example {
                args: command.split_whitespace().map(str::to_owned).collect(),
                shown: Vec::new(),
            });
            current = Some(examples.len() - 1);
        } else if let Some(index) = current {
            examples[index].shown.push(line.to_owned());
        }
    }
    // Blank lines between examples belong to no example.
    for example in &mut examples {
        while example.shown.last().is_some_and(|l| l.is_empty()) {
            example.shown.pop();
        }
    }
    examples
}

/// Timings differ run to run: every decimal fraction becomes `#`, and so do the digits of the
/// seconds the JSON reports.
fn normalize(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            let mut number = String::from(c);
            while let Some(&next) = chars.peek() {
                if next.is_ascii_digit() || next == '.' || next == 'e' || next == '-' {
                    number.push(next);
                    chars.next();
                } else {
                    break;
                }
            }
            let trimmed = number.trim_end_matches(['.', '-', 'e']);
            let rest = &number[trimmed.len()..];
            if trimmed.contains('.') || trimmed.contains('e') {
                out.push('#');
            } else {
                out.push_str(trimmed);
            }
            out.push_str(rest);
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn every_example_in_the_readme_prints_what_it_shows() {
    let backends = common::adapter_backends();
    if backends.is_empty() {
        // The README shows a machine with Mesa's adapters; without any, auto's notices differ.
        return;
    }
    let labels: Vec<String> = gpusum::gpu::compute_adapters(&gpusum::gpu::instance())
        .iter()
        .map(|a| gpusum::gpu::adapter_label(&a.get_info()))
        .collect();
    let examples = examples();
    assert!(
        examples.len() >= 8,
        "only {} examples found",
        examples.len()
    );
    // The README's machine is the one whose adapters its `gpusum adapters` example lists.
    let readme_labels: Vec<String> = examples
        .iter()
        .find(|e| e.args == ["adapters"])
        .map(|e| {
            e.shown
                .iter()
                .filter_map(|line| {
                    line.strip_prefix('[')?
                        .split_once("] ")
                        .map(|(_, l)| l.to_owned())
                })
                .collect()
        })
        .unwrap_or_default();
    let same_machine = labels == readme_labels;
    let mut compared = 0;
    for example in &examples {
        // stdout and stderr through one pipe, in the order a terminal shows them. Mesa's EGL
        // complains on stderr without XDG_RUNTIME_DIR, which the README's machine has.
        let runtime_dir =
            std::env::var_os("XDG_RUNTIME_DIR").unwrap_or_else(|| std::env::temp_dir().into());
        let output = Command::new("sh")
            .env("XDG_RUNTIME_DIR", runtime_dir)
            .arg("-c")
            .arg("exec \"$0\" \"$@\" 2>&1")
            .arg(GPUSUM)
            .args(&example.args)
            .output()
            .unwrap();
        let printed = String::from_utf8_lossy(&output.stdout);
        let shown = example.shown.join("\n");
        let names_adapters = ["(vulkan)", "(gl)", "(metal)", "(dx12)"]
            .iter()
            .any(|api| shown.contains(api));
        if names_adapters && !same_machine {
            assert!(
                std::env::var("GPUSUM_REQUIRE_BACKENDS").is_err(),
                "CI must run on the README's machine: it lists {readme_labels:?}, this one has {labels:?}"
            );
            eprintln!(
                "gpusum {}: names the README's adapters {readme_labels:?}, not this machine's \
                 {labels:?}; its output was not compared",
                example.args.join(" ")
            );
            continue;
        }
        assert_eq!(
            normalize(printed.trim_end()),
            normalize(&shown),
            "gpusum {} (adapters here: {backends:?})",
            example.args.join(" ")
        );
        compared += 1;
    }
    eprintln!("compared {compared} of {} README examples", examples.len());
}

#[test]
fn normalizing_hides_timings_but_not_sums() {
    assert_eq!(normalize("took 0.10 s, sum 210"), "took # s, sum 210");
    assert_eq!(normalize("\"seconds\":6.7e-2,"), "\"seconds\":#,");
    assert_eq!(
        normalize("-9223372036854775308500"),
        "-9223372036854775308500"
    );
    assert_eq!(normalize("33/33 1.5e10"), "33/33 #");
}
