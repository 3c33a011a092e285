//! Every WGSL file in shaders/ is parsed and validated by naga; no GPU needed.
//!
//! Each kernel composition gpusum builds is validated; the peak kernel stands alone.

use std::path::Path;

use naga::valid::{Capabilities, ValidationFlags, Validator};

use super::{SHADERS, Workload, kernel_wgsl, peak_wgsl};
use crate::gpu::WORKGROUP_SIZE;
use crate::kernel::{KernelChoice, Reduction, ShaderVariant};

fn shader_files() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("shaders");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .expect("shaders/ exists")
        .map(|entry| {
            entry
                .expect("readable entry")
                .file_name()
                .into_string()
                .expect("UTF-8 name")
        })
        .filter(|name| name.ends_with(".wgsl"))
        .collect();
    files.sort();
    files
}

fn parse(label: &str, source: &str) -> naga::Module {
    naga::front::wgsl::parse_str(source)
        .unwrap_or_else(|e| panic!("{label} does not parse:\n{}", e.emit_to_string(source)))
}

fn validate(module: &naga::Module, capabilities: Capabilities) -> Result<(), String> {
    Validator::new(ValidationFlags::all(), capabilities)
        .validate(module)
        .map(|_| ())
        .map_err(|e| format!("{:?}", e.into_inner()))
}

fn workgroup_size(label: &str, module: &naga::Module) -> u32 {
    let (_, constant) = module
        .constants
        .iter()
        .find(|(_, c)| c.name.as_deref() == Some("WORKGROUP_SIZE"))
        .unwrap_or_else(|| panic!("{label} has no WORKGROUP_SIZE"));
    match module.global_expressions[constant.init] {
        naga::Expression::Literal(naga::Literal::U32(size)) => size,
        ref other => panic!("{label}: WORKGROUP_SIZE is {other:?}"),
    }
}

fn compositions() -> Vec<(String, String)> {
    KernelChoice::all_supported(wgpu::Features::all())
        .into_iter()
        .map(|choice| (choice.to_string(), kernel_wgsl(Workload::Range, choice)))
        .collect()
}

#[test]
fn every_kernel_validates_and_agrees_on_the_workgroup_size() {
    assert_eq!(compositions().len(), 4);
    for (label, source) in compositions() {
        let module = parse(&label, &source);
        validate(&module, Capabilities::all()).unwrap_or_else(|e| panic!("{label}: {e}"));
        assert_eq!(
            workgroup_size(&label, &module),
            WORKGROUP_SIZE,
            "{label}: differs from the host"
        );
    }
    let peak = parse("peak_add.wgsl", peak_wgsl());
    validate(&peak, Capabilities::all()).expect("peak_add.wgsl validates");
    assert_eq!(workgroup_size("peak_add.wgsl", &peak), WORKGROUP_SIZE);
}

#[test]
fn every_shader_file_is_embedded_as_on_disk_and_used() {
    let mut embedded: Vec<String> = SHADERS.iter().map(|(file, _)| file.to_string()).collect();
    embedded.sort();
    assert_eq!(shader_files(), embedded, "shaders/ and SHADERS differ");
    let kernels: Vec<String> = compositions()
        .into_iter()
        .map(|(_, source)| source)
        .collect();
    for (file, source) in SHADERS {
        let on_disk = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("shaders")
                .join(file),
        )
        .unwrap();
        assert_eq!(source, on_disk, "{file} is not embedded as it is on disk");
        let used = source == peak_wgsl() || kernels.iter().any(|kernel| kernel.contains(source));
        assert!(used, "{file} is in no kernel");
    }
}

#[test]
fn optional_capabilities_are_needed_only_where_promised() {
    let optional = Capabilities::SHADER_INT64 | Capabilities::SUBGROUP;
    let core = Capabilities::all() - optional;
    let source =
        |variant, reduction| kernel_wgsl(Workload::Range, KernelChoice::new(variant, reduction));
    validate(
        &parse(
            "emulated / tree",
            &source(ShaderVariant::Emulated, Reduction::Tree),
        ),
        core,
    )
    .expect("the portable kernel needs no optional capability");
    assert!(
        validate(
            &parse(
                "native / tree",
                &source(ShaderVariant::Native, Reduction::Tree)
            ),
            Capabilities::all() - Capabilities::SHADER_INT64
        )
        .is_err()
    );
    assert!(
        validate(
            &parse(
                "emulated / subgroup",
                &source(ShaderVariant::Emulated, Reduction::Subgroup)
            ),
            Capabilities::all() - Capabilities::SUBGROUP
        )
        .is_err()
    );
}
