//! `gpusum adapters`: every adapter wgpu finds, as a table or JSON.

use std::fmt::Write as _;
use std::process::ExitCode;

use gpusum::Error;
use gpusum::gpu::{self, AdapterReport, PassedOver};

use super::out::say;
use super::{Outcome, RUNTIME, out};

pub fn run(json: bool) -> Outcome {
    let instance = gpu::instance();
    let reports: Vec<AdapterReport> = gpu::compute_adapters(&instance)
        .iter()
        .map(AdapterReport::of)
        .collect();
    let passed_over = gpu::passed_over_adapters(&instance);
    if json {
        #[derive(serde::Serialize)]
        struct AdaptersJson<'a> {
            adapters: &'a [AdapterReport],
            passed_over: &'a [PassedOver],
        }
        let body = AdaptersJson {
            adapters: &reports,
            passed_over: &passed_over,
        };
        out::println(&super::json::document(&body, true)?)?;
    }
    if !json && !passed_over.is_empty() {
        let mut text = String::from("passed over (wgpu lists them, gpusum cannot run on them):\n");
        for skipped in &passed_over {
            let _ = writeln!(text, "    {}: {}", skipped.adapter, skipped.reason);
        }
        // After the table where there is one.
        if reports.is_empty() {
            out::print(&text)?;
        } else {
            out::print(&format!("{}\n{text}", table(&reports)))?;
        }
    } else if !json && !reports.is_empty() {
        out::print(&table(&reports))?;
    }
    if reports.is_empty() {
        say!("gpusum: {}", Error::no_adapter());
        return Ok(ExitCode::from(RUNTIME));
    }
    Ok(ExitCode::SUCCESS)
}

fn table(reports: &[AdapterReport]) -> String {
    let mut text = String::new();
    let yes_no = |flag: bool| if flag { "yes" } else { "no" };
    for (index, report) in reports.iter().enumerate() {
        let _ = writeln!(text, "[{index}] {}", report.label());
        let kind = if report.software {
            format!("{} — runs on the CPU, not a GPU", report.device_type)
        } else {
            report.device_type.clone()
        };
        let (low, high) = report.subgroup_sizes;
        let subgroups = if report.subgroups {
            format!("yes ({low}..{high})")
        } else {
            "no".into()
        };
        let names = |names: Vec<&str>| names.join(", ");
        let _ = writeln!(text, "    type:        {kind}");
        let _ = writeln!(text, "    driver:      {}", report.driver);
        let _ = writeln!(text, "    int64:       {}", yes_no(report.int64));
        let _ = writeln!(text, "    subgroups:   {subgroups}");
        let _ = writeln!(text, "    timestamps:  {}", yes_no(report.timestamps));
        let _ = writeln!(
            text,
            "    workgroup:   {} invocations",
            report.workgroup_size
        );
        if let Some(compiler) = &report.dx12_shader_compiler {
            let _ = writeln!(text, "    compiler:    {compiler}");
        }
        let _ = writeln!(
            text,
            "    shaders:     {}; reductions: {}",
            names(report.variants.iter().map(|v| v.name()).collect()),
            names(report.reductions.iter().map(|r| r.name()).collect()),
        );
        let _ = writeln!(
            text,
            "    limits:      {} workgroups/dimension, {} invocations/workgroup, {} B workgroup memory, {} B storage binding",
            report.max_workgroups_per_dimension,
            report.max_invocations_per_workgroup,
            report.max_workgroup_storage_bytes,
            report.max_storage_binding_bytes,
        );
    }
    text
}
