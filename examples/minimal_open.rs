//! The least a wgpu program does before its first dispatch: create an instance for the native
//! APIs, take the high-performance adapter, open a device. The yardstick for `gpusum 1 20`'s cold
//! start (docs/BENCHMARKS.md):
//!
//! ```sh
//! cargo build --release --example minimal_open
//! time target/release/examples/minimal_open
//! ```

fn main() {
    let mut descriptor = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
    if std::env::var_os("WGPU_BACKEND").is_none() {
        descriptor.backends = wgpu::Backends::PRIMARY;
    }
    let instance = wgpu::Instance::new(descriptor);
    let adapter = pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
        power_preference: wgpu::PowerPreference::HighPerformance,
        ..Default::default()
    }))
    .expect("an adapter");
    let (_device, _queue) =
        pollster::block_on(adapter.request_device(&Default::default())).expect("a device");
    println!("{}", adapter.get_info().name);
}
