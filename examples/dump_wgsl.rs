//! Writes every kernel a browser can run, as the browser's WGSL compiler (Tint) reads it, into a
//! folder: one file per kernel and workgroup size. `web/tint-check.mjs` compiles them in Chromium.
//!
//! ```sh
//! cargo run --example dump_wgsl -- DIR
//! ```

use gpusum::gpu::{WgslCompiler, Workload, kernel_wgsl};
use gpusum::kernel::ArrayLayout;
use gpusum::{Dtype, KernelChoice, wgpu};

fn main() -> std::io::Result<()> {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: dump_wgsl DIR");
        std::process::exit(2);
    };
    std::fs::create_dir_all(&dir)?;
    // Browsers have no 64-bit integers; subgroups where they offer them.
    for choice in KernelChoice::all_supported(wgpu::Features::SUBGROUP) {
        for size in [256, 128, 64] {
            let name = format!("range_{}_{}_{size}.wgsl", choice.variant, choice.reduction);
            let source = kernel_wgsl(Workload::Range, choice, size, WgslCompiler::Tint);
            std::fs::write(std::path::Path::new(&dir).join(name), source)?;
            for layout in ArrayLayout::ALL {
                let arrays = Dtype::ALL.map(|dtype| (dtype.name(), Workload::Array(dtype, layout)));
                let plain = [("plain_f32", Workload::PlainF32(layout))];
                let grouped = Dtype::ALL.into_iter().flat_map(|dtype| {
                    [
                        (format!("grouped_{dtype}"), Workload::Grouped(dtype, layout)),
                        (format!("keyed_{dtype}"), Workload::Keyed(dtype, layout)),
                    ]
                });
                let named = arrays
                    .into_iter()
                    .chain(plain)
                    .map(|(what, workload)| (what.to_owned(), workload))
                    .chain(grouped);
                for (what, workload) in named {
                    let name = format!(
                        "array_{what}_{layout}_{}_{}_{size}.wgsl",
                        choice.variant, choice.reduction
                    );
                    let source = kernel_wgsl(workload, choice, size, WgslCompiler::Tint);
                    std::fs::write(std::path::Path::new(&dir).join(name), source)?;
                }
            }
        }
    }
    Ok(())
}
