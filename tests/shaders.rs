//! Every WGSL file in shaders/ is parsed and validated by naga; no GPU needed.
//!
//! The range-sum kernels are composed of four files (a reduction, the limb helpers, the parameters,
//! and the arithmetic), so each composition gpusum builds is validated; the peak kernel stands alone.

use std::path::Path;

use gpusum::ShaderVariant;
use gpusum::gpu::{self, Reduction, WORKGROUP_SIZE};
use naga::valid::{Capabilities, ValidationFlags, Validator};

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
    let mut kernels = Vec::new();
    for variant in ShaderVariant::ALL {
        for reduction in Reduction::ALL {
            kernels.push((
                format!("{variant} / {reduction}"),
                gpu::kernel_source(variant, reduction),
            ));
        }
    }
    kernels
}

#[test]
fn every_kernel_validates_and_agrees_on_the_workgroup_size() {
    for (label, source) in compositions() {
        let module = parse(&label, &source);
        validate(&module, Capabilities::all()).unwrap_or_else(|e| panic!("{label}: {e}"));
        assert_eq!(
            workgroup_size(&label, &module),
            WORKGROUP_SIZE,
            "{label}: differs from the host"
        );
    }
    let peak = parse(
        "peak_add.wgsl",
        gpu::SHADERS
            .iter()
            .find(|(f, _)| *f == "peak_add.wgsl")
            .unwrap()
            .1,
    );
    validate(&peak, Capabilities::all()).expect("peak_add.wgsl validates");
    assert_eq!(workgroup_size("peak_add.wgsl", &peak), WORKGROUP_SIZE);
}

#[test]
fn every_shader_file_is_embedded_as_on_disk_and_used() {
    let files = shader_files();
    let embedded: Vec<&str> = gpu::SHADERS.iter().map(|(file, _)| *file).collect();
    assert_eq!(
        files,
        {
            let mut e = embedded.clone();
            e.sort();
            e
        },
        "shaders/ and gpu::SHADERS differ"
    );
    let kernels: Vec<String> = compositions()
        .into_iter()
        .map(|(_, source)| source)
        .collect();
    for (file, source) in gpu::SHADERS {
        let on_disk = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("shaders")
                .join(file),
        )
        .unwrap();
        assert_eq!(source, on_disk, "{file} is not embedded as it is on disk");
        let used = file == "peak_add.wgsl" || kernels.iter().any(|kernel| kernel.contains(source));
        assert!(used, "{file} is in no kernel");
    }
}

#[test]
fn optional_capabilities_are_needed_only_where_promised() {
    let optional = Capabilities::SHADER_INT64 | Capabilities::SUBGROUP;
    let core = Capabilities::all() - optional;
    let portable = gpu::kernel_source(ShaderVariant::Emulated, Reduction::Tree);
    validate(&parse("emulated / tree", &portable), core)
        .expect("the portable kernel needs no optional capability");
    let native = gpu::kernel_source(ShaderVariant::Native, Reduction::Tree);
    assert!(
        validate(
            &parse("native / tree", &native),
            Capabilities::all() - Capabilities::SHADER_INT64
        )
        .is_err()
    );
    let subgroup = gpu::kernel_source(ShaderVariant::Emulated, Reduction::Subgroup);
    assert!(
        validate(
            &parse("emulated / subgroup", &subgroup),
            Capabilities::all() - Capabilities::SUBGROUP
        )
        .is_err()
    );
}
