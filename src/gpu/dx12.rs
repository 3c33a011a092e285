//! Which shader compiler DX12 gets. FXC, which Windows ships, stops at shader model 5.1: no
//! 64-bit integers, no wave operations, and known miscompiles of nested selects. DXC has none of
//! those limits but is a separate DLL, so gpusum uses it where it can have it and says which one
//! it got.

use std::fmt;
use std::path::PathBuf;

/// The DX12 shader compiler gpusum configures its instance with.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Dx12ShaderCompiler {
    /// DXC linked into the binary (the `static-dxc` feature).
    BuiltInDxc,
    /// DXC loaded from this `dxcompiler.dll`.
    Dxc(PathBuf),
    /// FXC: shader model 5.1, so the emulated shader with the tree reduction only.
    Fxc,
}

impl Dx12ShaderCompiler {
    /// The compiler for this process: `WGPU_DX12_COMPILER` when set (`fxc`, `dxc`, `static-dxc`);
    /// else DXC built in (the `static-dxc` feature); else a `dxcompiler.dll` beside the executable
    /// or on `PATH`; else FXC.
    #[must_use]
    pub fn for_this_process() -> Self {
        if let Ok(wanted) = std::env::var("WGPU_DX12_COMPILER") {
            match wanted.to_lowercase().replace(['-', '_'], "").as_str() {
                "fxc" => return Self::Fxc,
                "staticdxc" => return Self::BuiltInDxc,
                "dxc" | "dynamicdxc" => return Self::Dxc(PathBuf::from("dxcompiler.dll")),
                _ => {}
            }
        }
        if cfg!(feature = "static-dxc") {
            return Self::BuiltInDxc;
        }
        find_dxc().map_or(Self::Fxc, Self::Dxc)
    }

    /// What wgpu is told.
    pub(crate) fn to_wgpu(&self) -> wgpu::Dx12Compiler {
        match self {
            Self::BuiltInDxc => wgpu::Dx12Compiler::StaticDxc,
            Self::Dxc(path) => wgpu::Dx12Compiler::DynamicDxc {
                dxc_path: path.display().to_string(),
            },
            Self::Fxc => wgpu::Dx12Compiler::Fxc,
        }
    }
}

impl fmt::Display for Dx12ShaderCompiler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BuiltInDxc => f.write_str("DXC (built in)"),
            Self::Dxc(path) => write!(f, "DXC ({})", path.display()),
            Self::Fxc => f.write_str(
                "FXC (shader model 5.1: emulated shader and tree reduction only; for DXC, build \
                 with --features static-dxc or put dxcompiler.dll beside gpusum)",
            ),
        }
    }
}

/// `dxcompiler.dll` beside the executable, else on `PATH`.
#[cfg(windows)]
fn find_dxc() -> Option<PathBuf> {
    const DLL: &str = "dxcompiler.dll";
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.join(DLL)));
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .map(|dir| dir.join(DLL));
    beside
        .into_iter()
        .chain(on_path)
        .find(|path| path.is_file())
}

#[cfg(not(windows))]
fn find_dxc() -> Option<PathBuf> {
    None
}
