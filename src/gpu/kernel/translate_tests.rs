//! Offline translation, no GPU needed: every kernel and workgroup size goes through naga's SPIR-V,
//! GLSL, MSL and HLSL writers at the versions wgpu uses, and the SPIR-V and GLSL through Khronos'
//! own validators (`spirv-val` from spirv-tools, `glslangValidator` from glslang-tools). A missing
//! validator fails the test, unless `GPUSUM_ALLOW_NO_SHADER_TOOLS=1` says that is fine here.

use std::path::{Path, PathBuf};
use std::process::Command;

use naga::valid::{Capabilities, ModuleInfo, ValidationFlags, Validator};

use super::{WgslCompiler, Workload, kernel_wgsl};
use crate::array::Dtype;
use crate::gpu::UnitWalk;
use crate::kernel::{ArrayLayout, KernelChoice, Reduction, ShaderVariant};

const WORKGROUP_SIZES: [u32; 4] = [256, 128, 64, 32];

struct Kernel {
    label: String,
    choice: KernelChoice,
    module: naga::Module,
    info: ModuleInfo,
}

/// Every range kernel at every size; array kernels of the four element sizes in both layouts, at
/// the largest and smallest size.
fn compositions() -> Vec<(String, Workload, u32)> {
    let mut all: Vec<(String, Workload, u32)> = WORKGROUP_SIZES
        .into_iter()
        .map(|size| (format!("range / workgroup {size}"), Workload::Range, size))
        .collect();
    for dtype in [Dtype::I8, Dtype::U16, Dtype::I32, Dtype::I64] {
        for layout in ArrayLayout::ALL {
            for size in [256, 32] {
                let label = format!("{dtype} {layout} / workgroup {size}");
                all.push((label, Workload::Array(dtype, layout), size));
            }
        }
    }
    // Sums along axes and by key, whose kernels address elements one by one, integers and
    // floats alike.
    for dtype in [Dtype::I8, Dtype::U16, Dtype::I64, Dtype::F32, Dtype::F64] {
        for layout in ArrayLayout::ALL {
            for workload in [
                Workload::Grouped(dtype, layout),
                Workload::Keyed(dtype, layout),
            ] {
                let label = format!("{workload:?} / workgroup 256");
                all.push((label, workload, 256));
            }
        }
    }
    all
}

/// Every composition with its pipeline constants applied, as wgpu applies them before writing:
/// array kernels with both walks (`WALK`, see [`UnitWalk`]).
fn kernels() -> Vec<Kernel> {
    let mut kernels = Vec::new();
    for choice in KernelChoice::all_supported(wgpu::Features::all()) {
        for (what, workload, size) in compositions() {
            let source = kernel_wgsl(workload, choice, size, WgslCompiler::Naga);
            let module = naga::front::wgsl::parse_str(&source)
                .unwrap_or_else(|e| panic!("{what}: {}", e.emit_to_string(&source)));
            let info = Validator::new(ValidationFlags::all(), Capabilities::all())
                .validate(&module)
                .unwrap_or_else(|e| panic!("{what}: {:?}", e.into_inner()));
            let walks: &[Option<UnitWalk>] = match workload {
                Workload::Range | Workload::Grouped(..) | Workload::Keyed(..) => &[None],
                _ => &[Some(UnitWalk::Interleaved), Some(UnitWalk::Runs)],
            };
            for walk in walks {
                let mut constants = naga::back::PipelineConstants::default();
                let mut label = format!("{choice} / {what}");
                if let Some(walk) = walk {
                    let (name, value) = walk.pipeline_constant(size);
                    constants.insert(name.to_owned(), value);
                    label = format!("{label} / {walk:?} walk");
                }
                let (module, info) = naga::back::pipeline_constants::process_overrides(
                    &module, &info, None, &constants,
                )
                .unwrap_or_else(|e| panic!("{label}: {e}"));
                kernels.push(Kernel {
                    label,
                    choice,
                    module: module.into_owned(),
                    info: info.into_owned(),
                });
            }
        }
    }
    kernels
}

/// The validator's path, or `None` (after saying so) where `GPUSUM_ALLOW_NO_SHADER_TOOLS=1`.
fn tool(name: &str, package: &str) -> Option<&'static str> {
    let found = Command::new(name).arg("--version").output().is_ok();
    if found {
        return Some(if name == "spirv-val" {
            "spirv-val"
        } else {
            "glslangValidator"
        });
    }
    let message = format!("{name} is not installed: apt-get install {package}");
    assert!(
        std::env::var("GPUSUM_ALLOW_NO_SHADER_TOOLS").as_deref() == Ok("1"),
        "{message} (or set GPUSUM_ALLOW_NO_SHADER_TOOLS=1 to translate without validating)"
    );
    #[allow(clippy::print_stderr)]
    {
        eprintln!("\n!!!!! {message}; the translations were not validated !!!!!\n");
    }
    None
}

fn scratch_file(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gpusum-translate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn run_validator(tool: &str, args: &[&str], file: &Path, label: &str) {
    let output = Command::new(tool).args(args).arg(file).output().unwrap();
    assert!(
        output.status.success(),
        "{tool} rejects {label}:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn spirv_for_vulkan_1_1_to_1_3_passes_spirv_val() {
    let validator = tool("spirv-val", "spirv-tools");
    for kernel in kernels() {
        for (version, env) in [
            ((1, 3), "vulkan1.1"),
            ((1, 5), "vulkan1.2"),
            ((1, 6), "vulkan1.3"),
        ] {
            let options = naga::back::spv::Options {
                lang_version: version,
                ..Default::default()
            };
            let pipeline = naga::back::spv::PipelineOptions {
                shader_stage: naga::ShaderStage::Compute,
                entry_point: "main".into(),
            };
            let words =
                naga::back::spv::write_vec(&kernel.module, &kernel.info, &options, Some(&pipeline))
                    .unwrap_or_else(|e| panic!("{} to SPIR-V {version:?}: {e}", kernel.label));
            let Some(validator) = validator else { continue };
            let file = scratch_file("kernel.spv");
            let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
            std::fs::write(&file, bytes).unwrap();
            let label = format!("{} as SPIR-V {version:?}", kernel.label);
            run_validator(validator, &["--target-env", env], &file, &label);
        }
    }
}

#[test]
fn glsl_for_gl_4_5_and_gles_3_1_passes_glslang() {
    let validator = tool("glslangValidator", "glslang-tools");
    // wgpu's GL backend has neither int64 nor subgroups: the portable kernel is what runs there.
    for kernel in kernels()
        .iter()
        .filter(|k| k.choice == KernelChoice::PORTABLE)
    {
        for version in [
            naga::back::glsl::Version::Desktop(450),
            naga::back::glsl::Version::new_gles(310),
        ] {
            let options = naga::back::glsl::Options {
                version,
                ..Default::default()
            };
            let pipeline = naga::back::glsl::PipelineOptions {
                shader_stage: naga::ShaderStage::Compute,
                entry_point: "main".into(),
                multiview: None,
            };
            let mut source = String::new();
            let mut writer = naga::back::glsl::Writer::new(
                &mut source,
                &kernel.module,
                &kernel.info,
                &options,
                &pipeline,
                naga::proc::BoundsCheckPolicies::default(),
            )
            .unwrap_or_else(|e| panic!("{} to GLSL {version}: {e}", kernel.label));
            writer
                .write()
                .unwrap_or_else(|e| panic!("{} to GLSL {version}: {e}", kernel.label));
            let Some(validator) = validator else { continue };
            let file = scratch_file("kernel.comp");
            std::fs::write(&file, source).unwrap();
            let label = format!("{} as GLSL {version}", kernel.label);
            run_validator(validator, &[], &file, &label);
        }
    }
}

#[test]
fn msl_and_hlsl_generate_at_the_versions_wgpu_uses() {
    for kernel in kernels() {
        let portable = kernel.choice == KernelChoice::PORTABLE;
        // Metal 1.2 has neither subgroup operations nor 64-bit integers; newer Macs run 2.4+.
        let msl_versions: &[(u8, u8)] = if portable {
            &[(1, 2), (2, 4), (3, 1)]
        } else {
            &[(2, 4), (3, 1)]
        };
        for &version in msl_versions {
            let options = naga::back::msl::Options {
                lang_version: version,
                fake_missing_bindings: true,
                ..Default::default()
            };
            naga::back::msl::write_string(
                &kernel.module,
                &kernel.info,
                &options,
                &naga::back::msl::PipelineOptions::default(),
            )
            .unwrap_or_else(|e| panic!("{} to MSL {version:?}: {e}", kernel.label));
        }
        // FXC stops at shader model 5.1, which has neither wave operations nor 64-bit integers.
        let needs_dxc = kernel.choice.variant == ShaderVariant::Native
            || kernel.choice.reduction == Reduction::Subgroup;
        let models: &[naga::back::hlsl::ShaderModel] = if needs_dxc {
            &[
                naga::back::hlsl::ShaderModel::V6_0,
                naga::back::hlsl::ShaderModel::V6_6,
            ]
        } else {
            &[
                naga::back::hlsl::ShaderModel::V5_1,
                naga::back::hlsl::ShaderModel::V6_0,
            ]
        };
        for &shader_model in models {
            let options = naga::back::hlsl::Options {
                shader_model,
                fake_missing_bindings: true,
                ..Default::default()
            };
            let mut source = String::new();
            naga::back::hlsl::Writer::new(&mut source, &options, &Default::default())
                .write(&kernel.module, &kernel.info, None)
                .unwrap_or_else(|e| panic!("{} to HLSL {shader_model:?}: {e}", kernel.label));
        }
    }
}

/// Writes each kernel's SPIR-V to `GPUSUM_DUMP_SPIRV` (a folder) when that is set, for counting
/// the inner loop's instructions (docs/BENCHMARKS.md).
#[test]
fn spirv_can_be_dumped_for_op_counts() {
    let Ok(dir) = std::env::var("GPUSUM_DUMP_SPIRV") else {
        return;
    };
    for kernel in kernels()
        .iter()
        .filter(|k| k.label.ends_with("workgroup 256"))
    {
        let options = naga::back::spv::Options {
            lang_version: (1, 3),
            ..Default::default()
        };
        let words =
            naga::back::spv::write_vec(&kernel.module, &kernel.info, &options, None).unwrap();
        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        let name = format!("{}_{}.spv", kernel.choice.variant, kernel.choice.reduction);
        std::fs::write(Path::new(&dir).join(name), bytes).unwrap();
    }
}
