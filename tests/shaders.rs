//! Every WGSL file in shaders/ parses and validates with naga; no GPU needed.

use std::path::Path;

use gpusum::ShaderVariant;
use gpusum::gpu::{self, WORKGROUP_SIZE};
use naga::valid::{Capabilities, ValidationFlags, Validator};

fn shader_files() -> Vec<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("shaders");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("shaders/ exists")
        .map(|entry| entry.expect("readable entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "wgsl"))
        .collect();
    files.sort();
    files
}

fn parse(path: &Path) -> naga::Module {
    let source = std::fs::read_to_string(path).expect("readable shader");
    naga::front::wgsl::parse_str(&source).unwrap_or_else(|e| {
        panic!(
            "{} does not parse:\n{}",
            path.display(),
            e.emit_to_string(&source)
        )
    })
}

fn validate(module: &naga::Module, capabilities: Capabilities) -> Result<(), String> {
    Validator::new(ValidationFlags::all(), capabilities)
        .validate(module)
        .map(|_| ())
        .map_err(|e| format!("{:?}", e.into_inner()))
}

#[test]
fn every_shader_validates() {
    let files = shader_files();
    assert!(!files.is_empty(), "no shaders found");
    for path in files {
        let module = parse(&path);
        validate(&module, Capabilities::all())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
}

#[test]
fn every_shader_file_is_embedded_and_agrees_on_the_workgroup_size() {
    let files = shader_files();
    assert_eq!(
        files.len(),
        gpu::SHADERS.len(),
        "shaders/ and gpu::SHADERS list different files"
    );
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let name = path.file_name().unwrap().to_str().unwrap();
        let embedded = gpu::SHADERS
            .iter()
            .find(|(file, _)| *file == name)
            .map(|(_, source)| *source);
        assert_eq!(
            embedded,
            Some(text.as_str()),
            "{name} is not embedded as it is on disk"
        );
        let module = parse(&path);
        let constant = module
            .constants
            .iter()
            .find(|(_, c)| c.name.as_deref() == Some("WORKGROUP_SIZE"))
            .unwrap_or_else(|| panic!("{} has no WORKGROUP_SIZE", path.display()))
            .1;
        match module.global_expressions[constant.init] {
            naga::Expression::Literal(naga::Literal::U32(size)) => {
                assert_eq!(
                    size,
                    WORKGROUP_SIZE,
                    "{}: WORKGROUP_SIZE differs from the host's",
                    path.display()
                )
            }
            ref other => panic!("{}: WORKGROUP_SIZE is {other:?}", path.display()),
        }
    }
}

#[test]
fn the_emulated_shader_needs_no_64_bit_integers() {
    let module = naga::front::wgsl::parse_str(ShaderVariant::Emulated.source()).unwrap();
    let core = Capabilities::all() - Capabilities::SHADER_INT64;
    validate(&module, core).expect("the portable shader must validate without SHADER_INT64");
    let native = naga::front::wgsl::parse_str(ShaderVariant::Native.source()).unwrap();
    assert!(
        validate(&native, core).is_err(),
        "the native shader should need SHADER_INT64"
    );
}
