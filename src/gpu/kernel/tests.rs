//! Every WGSL file in shaders/ is parsed and validated by naga; no GPU needed.
//!
//! Each kernel composition gpusum builds is validated; the peak kernel stands alone.

use std::path::Path;

use naga::valid::{Capabilities, ValidationFlags, Validator};

use super::{SHADERS, WgslCompiler, Workload, kernel_wgsl, peak_read_wgsl, peak_wgsl};
use crate::array::Dtype;
use crate::gpu::MAX_WORKGROUP_SIZE;
use crate::kernel::{ArrayLayout, KernelChoice, Reduction, ShaderVariant};

fn naga_wgsl(choice: KernelChoice, workgroup_size: u32) -> String {
    kernel_wgsl(Workload::Range, choice, workgroup_size, WgslCompiler::Naga)
}

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

fn workloads() -> Vec<Workload> {
    let arrays = Dtype::ALL
        .into_iter()
        .flat_map(|dtype| ArrayLayout::ALL.map(|layout| Workload::Array(dtype, layout)));
    let plain = ArrayLayout::ALL.map(Workload::PlainF32);
    let grouped = Dtype::ALL.into_iter().flat_map(|dtype| {
        ArrayLayout::ALL.into_iter().flat_map(move |layout| {
            [
                Workload::Grouped(dtype, layout),
                Workload::Keyed(dtype, layout),
            ]
        })
    });
    std::iter::once(Workload::Range)
        .chain(arrays)
        .chain(plain)
        .chain(grouped)
        .collect()
}

fn compositions() -> Vec<(String, String)> {
    let mut all = Vec::new();
    for workload in workloads() {
        for choice in KernelChoice::all_supported(wgpu::Features::all()) {
            let source = kernel_wgsl(workload, choice, MAX_WORKGROUP_SIZE, WgslCompiler::Naga);
            all.push((format!("{workload:?} {choice}"), source));
        }
    }
    all
}

#[test]
fn every_array_kernel_validates_with_its_constants() {
    // The range, 10 types and the plain f32 sum by 2 layouts, and sums along axes and by key of
    // 10 types by 2 layouts, each per choice; float kernels are composed for every choice alike.
    assert_eq!(compositions().len(), 4 * (1 + 22 + 40));
    for (label, source) in compositions() {
        let module = parse(&label, &source);
        validate(&module, Capabilities::all()).unwrap_or_else(|e| panic!("{label}: {e}"));
    }
    for layout in ArrayLayout::ALL {
        for size in [256, 32, 1] {
            let label = format!("{layout} workgroup {size}");
            let choice = KernelChoice::PORTABLE;
            let workloads = [Dtype::I8, Dtype::F32, Dtype::F64]
                .into_iter()
                .flat_map(|dtype| {
                    [
                        Workload::Array(dtype, layout),
                        Workload::Grouped(dtype, layout),
                        Workload::Keyed(dtype, layout),
                    ]
                })
                .chain([Workload::PlainF32(layout)]);
            for workload in workloads {
                let module = parse(&label, &naga_source(workload, choice, size));
                validate(&module, Capabilities::all())
                    .unwrap_or_else(|e| panic!("{label} {workload:?}: {e}"));
            }
            let read = parse(&label, &peak_read_wgsl(layout, size));
            validate(&read, Capabilities::all()).unwrap_or_else(|e| panic!("{label}: {e}"));
        }
    }
}

fn naga_source(workload: Workload, choice: KernelChoice, size: u32) -> String {
    kernel_wgsl(workload, choice, size, WgslCompiler::Naga)
}

#[test]
fn every_kernel_validates_at_every_workgroup_size_the_host_asked_for() {
    for choice in KernelChoice::all_supported(wgpu::Features::all()) {
        for size in [256, 128, 64, 32, 2, 1] {
            let label = format!("{choice} / workgroup {size}");
            let module = parse(&label, &naga_wgsl(choice, size));
            validate(&module, Capabilities::all()).unwrap_or_else(|e| panic!("{label}: {e}"));
            assert_eq!(workgroup_size(&label, &module), size, "{label}");
        }
    }
    for size in [256, 64] {
        let peak = parse("peak_add.wgsl", &peak_wgsl(size));
        validate(&peak, Capabilities::all()).expect("peak_add.wgsl validates");
        assert_eq!(workgroup_size("peak_add.wgsl", &peak), size);
    }
}

#[test]
fn the_subgroup_reduction_does_not_trust_the_drivers_subgroup_numbering() {
    let source = naga_wgsl(
        KernelChoice::new(ShaderVariant::Emulated, Reduction::Subgroup),
        MAX_WORKGROUP_SIZE,
    );
    assert!(!source.contains("subgroup_id") && !source.contains("num_subgroups"));
}

#[test]
fn tint_gets_the_enable_directive_and_otherwise_the_same_text() {
    for choice in KernelChoice::all_supported(wgpu::Features::all()) {
        let naga = naga_wgsl(choice, 128);
        let tint = kernel_wgsl(Workload::Range, choice, 128, WgslCompiler::Tint);
        match choice.reduction {
            Reduction::Subgroup => assert_eq!(tint, format!("enable subgroups;\n{naga}")),
            _ => assert_eq!(tint, naga),
        }
    }
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
    for &(file, source) in SHADERS {
        let on_disk = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("shaders")
                .join(file),
        )
        .unwrap();
        assert_eq!(source, on_disk, "{file} is not embedded as it is on disk");
        let used = peak_wgsl(MAX_WORKGROUP_SIZE).contains(source)
            || peak_read_wgsl(ArrayLayout::Buffer, 64).contains(source)
            || kernels.iter().any(|k| k.contains(source));
        assert!(used, "{file} is in no kernel");
    }
}

#[test]
fn optional_capabilities_are_needed_only_where_promised() {
    let optional = Capabilities::SHADER_INT64 | Capabilities::SUBGROUP;
    let core = Capabilities::all() - optional;
    let source = |variant, reduction| naga_wgsl(KernelChoice::new(variant, reduction), 256);
    validate(
        &parse(
            "emulated / tree",
            &source(ShaderVariant::Emulated, Reduction::Tree),
        ),
        core,
    )
    .expect("the portable kernel needs no optional capability");
    for layout in ArrayLayout::ALL {
        let workload = Workload::Array(Dtype::I64, layout);
        let portable = naga_source(workload, KernelChoice::PORTABLE, 256);
        validate(&parse("array", &portable), core)
            .expect("the portable array kernel needs no optional capability");
    }
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

#[test]
fn the_float_partial_format_comes_from_the_host_alone() {
    use crate::float::{
        FLAG_NAN, FLAG_NEGATIVE_INFINITY, FLAG_NOT_NEGATIVE_ZERO, FLAG_POSITIVE_INFINITY,
    };
    let names = [
        "PARTIAL_WORDS",
        "PARTIAL_HEADER_WORDS",
        "FLAG_NAN",
        "FLAG_POSITIVE_INFINITY",
        "FLAG_NEGATIVE_INFINITY",
        "FLAG_NOT_NEGATIVE_ZERO",
    ];
    for file in ["float_add.wgsl", "float_sum.wgsl", "float_every_digit.wgsl"] {
        for name in names {
            assert!(
                !super::shader(file).contains(&format!("const {name}")),
                "{file} defines {name}, which the host emits"
            );
        }
    }
    for dtype in [Dtype::F32, Dtype::F64] {
        let wgsl = kernel_wgsl(
            Workload::Array(dtype, ArrayLayout::Buffer),
            KernelChoice::PORTABLE,
            64,
            WgslCompiler::Naga,
        );
        let words = super::float_partial_words(dtype);
        for line in [
            format!("const PARTIAL_WORDS: u32 = {words}u;"),
            format!(
                "const PARTIAL_HEADER_WORDS: u32 = {}u;",
                super::FLOAT_PARTIAL_HEADER_WORDS
            ),
            format!("const FLAG_NAN: u32 = {FLAG_NAN}u;"),
            format!("const FLAG_POSITIVE_INFINITY: u32 = {FLAG_POSITIVE_INFINITY}u;"),
            format!("const FLAG_NEGATIVE_INFINITY: u32 = {FLAG_NEGATIVE_INFINITY}u;"),
            format!("const FLAG_NOT_NEGATIVE_ZERO: u32 = {FLAG_NOT_NEGATIVE_ZERO}u;"),
        ] {
            assert!(wgsl.contains(&line), "{dtype} kernel lacks {line}");
        }
        assert_eq!(super::float_partial_bytes(dtype), 4 * words as u64);
    }
}
