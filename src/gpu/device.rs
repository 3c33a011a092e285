//! Device plumbing shared by every kernel: opening, health (loss and uncaptured errors), error
//! scopes, shader modules, buffers, and waits bounded by the caller's [`Control`].

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use super::adapter_label;
use crate::Error;
use crate::control::Control;

/// The optional features gpusum uses when an adapter has them.
pub const USEFUL_FEATURES: wgpu::Features = wgpu::Features::SHADER_INT64
    .union(wgpu::Features::TIMESTAMP_QUERY)
    .union(wgpu::Features::SUBGROUP);

/// Opens a device on `adapter` with its full limits and the optional features gpusum can use.
///
/// # Errors
/// [`Error::RequestDevice`] when the adapter refuses.
pub fn open_device(adapter: &wgpu::Adapter) -> Result<(wgpu::Device, wgpu::Queue), Error> {
    super::wait::block(open_device_async(adapter))
}

/// [`open_device`] without blocking: the web's way.
///
/// # Errors
/// As for [`open_device`].
pub async fn open_device_async(
    adapter: &wgpu::Adapter,
) -> Result<(wgpu::Device, wgpu::Queue), Error> {
    let descriptor = wgpu::DeviceDescriptor {
        label: Some("gpusum"),
        required_features: adapter.features() & USEFUL_FEATURES,
        required_limits: adapter.limits(),
        ..Default::default()
    };
    adapter
        .request_device(&descriptor)
        .await
        .map_err(|source| Error::RequestDevice {
            adapter: adapter_label(&adapter.get_info()),
            source,
        })
}

/// A device with its queue and what its callbacks have reported. Contexts built on one device
/// share one of these, so every one of them sees a loss.
pub(crate) struct Device {
    info: wgpu::AdapterInfo,
    device: wgpu::Device,
    queue: wgpu::Queue,
    lost: Arc<Mutex<Option<String>>>,
    uncaptured: Arc<Mutex<Option<wgpu::Error>>>,
}

/// Longest single wait on the device before the cancel flag is looked at again.
const WAIT_SLICE: Duration = Duration::from_millis(50);

impl Device {
    /// Takes over `device`: installs its device-lost callback and uncaptured-error handler,
    /// replacing any that were set before.
    pub(crate) fn new(info: wgpu::AdapterInfo, device: wgpu::Device, queue: wgpu::Queue) -> Self {
        let lost = Arc::new(Mutex::new(None));
        let lost_slot = Arc::clone(&lost);
        device.set_device_lost_callback(move |reason, message| {
            let reason = match reason {
                wgpu::DeviceLostReason::Destroyed => "the device was destroyed",
                wgpu::DeviceLostReason::Unknown => "the driver gave no reason",
            };
            let detail = if message.is_empty() {
                String::new()
            } else {
                format!(" ({message})")
            };
            *lock(&lost_slot) = Some(format!("{reason}{detail}"));
        });
        let uncaptured = Arc::new(Mutex::new(None));
        let uncaptured_slot = Arc::clone(&uncaptured);
        device.on_uncaptured_error(Arc::new(move |error: wgpu::Error| {
            lock(&uncaptured_slot).get_or_insert(error);
        }));
        Self {
            info,
            device,
            queue,
            lost,
            uncaptured,
        }
    }

    pub(crate) fn info(&self) -> &wgpu::AdapterInfo {
        &self.info
    }

    pub(crate) fn label(&self) -> String {
        adapter_label(&self.info)
    }

    pub(crate) fn wgpu(&self) -> &wgpu::Device {
        &self.device
    }

    pub(crate) fn queue(&self) -> &wgpu::Queue {
        &self.queue
    }

    /// Fails if the device was lost or reported an error outside any scope.
    pub(crate) fn check_health(&self) -> Result<(), Error> {
        if let Some(reason) = lock(&self.lost).clone() {
            return Err(Error::DeviceLost { reason });
        }
        if let Some(source) = lock(&self.uncaptured).take() {
            return Err(Error::Gpu {
                adapter: self.label(),
                source,
            });
        }
        Ok(())
    }

    /// Runs `calls` inside validation and out-of-memory error scopes and turns what they caught
    /// into an [`Error`]. On the web a scope can only be read by returning to the browser, so
    /// there what `calls` get wrong reaches the uncaptured-error handler, which every wait checks.
    #[cfg(target_arch = "wasm32")]
    pub(crate) fn scoped<T>(&self, calls: impl FnOnce() -> T) -> Result<T, Error> {
        Ok(calls())
    }

    /// Runs `calls` inside validation and out-of-memory error scopes and turns what they caught
    /// into an [`Error`].
    #[cfg(not(target_arch = "wasm32"))]
    pub(crate) fn scoped<T>(&self, calls: impl FnOnce() -> T) -> Result<T, Error> {
        let out_of_memory = self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let validation = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let value = calls();
        let validation = pollster::block_on(validation.pop());
        let out_of_memory = pollster::block_on(out_of_memory.pop());
        match validation.or(out_of_memory) {
            None => Ok(value),
            Some(wgpu::Error::OutOfMemory { .. }) => Err(Error::OutOfMemory {
                adapter: self.label(),
            }),
            Some(source) => Err(Error::Gpu {
                adapter: self.label(),
                source,
            }),
        }
    }

    /// A shader module without naga's loop bounding, which cost the native kernel 18% on
    /// lavapipe (docs/BENCHMARKS.md). Array bounds checks stay on.
    pub(crate) fn trusted_module(&self, label: &str, source: &str) -> wgpu::ShaderModule {
        let descriptor = wgpu::ShaderModuleDescriptor {
            label: Some(label),
            source: wgpu::ShaderSource::Wgsl(source.into()),
        };
        let checks = wgpu::ShaderRuntimeChecks {
            bounds_checks: true,
            ..wgpu::ShaderRuntimeChecks::unchecked()
        };
        // SAFETY: loop bounding only guards against loops that never end. Every loop in shaders/
        // ends: element loops run at most `per_invocation` (<= 2^16) times, the reductions halve
        // their stride down to zero or count up to a fixed bound, and the peak loop runs
        // `iterations` times.
        unsafe { self.device.create_shader_module_trusted(descriptor, checks) }
    }

    /// An unmapped buffer.
    pub(crate) fn buffer(&self, label: &str, size: u64, usage: wgpu::BufferUsages) -> wgpu::Buffer {
        self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size,
            usage,
            mapped_at_creation: false,
        })
    }

    /// Polls the device once without waiting, which delivers the callbacks of finished work.
    ///
    /// # Errors
    /// A lost device, or a failed poll.
    pub(crate) fn poll_once(&self) -> Result<(), Error> {
        match self.device.poll(wgpu::PollType::Poll) {
            Ok(_) => self.check_health(),
            Err(error) => {
                self.check_health()?;
                Err(Error::Poll(error))
            }
        }
    }

    /// [`Device::wait`] natively. On the web the browser runs the queue and delivers the map
    /// callbacks only when control returns to it, so there is nothing to wait for here: the
    /// caller awaits its map, raced against the control's deadline.
    pub(crate) async fn wait_async(
        &self,
        submission: Option<wgpu::SubmissionIndex>,
        control: &Control<'_>,
    ) -> Result<(), Error> {
        if cfg!(target_arch = "wasm32") {
            control.check()?;
            self.check_health()
        } else {
            self.wait(submission, control)
        }
    }

    /// Waits until `submission` (or all work, for `None`) is done, bounded by `control`'s
    /// deadline and looking at its cancel flag between slices of the wait.
    ///
    /// # Errors
    /// [`Error::Timeout`], [`Error::Cancelled`], a lost device, or a failed poll.
    pub(crate) fn wait(
        &self,
        submission: Option<wgpu::SubmissionIndex>,
        control: &Control,
    ) -> Result<(), Error> {
        loop {
            control.check()?;
            let slice = control
                .remaining()
                .map_or(WAIT_SLICE, |left| left.min(WAIT_SLICE));
            let polled = self.device.poll(wgpu::PollType::Wait {
                submission_index: submission.clone(),
                timeout: Some(slice),
            });
            match polled {
                Ok(_) => return self.check_health(),
                Err(wgpu::PollError::Timeout) => continue,
                Err(error) => {
                    // A lost device is reported through its callback, which only a poll
                    // delivers; a failed wait is most often that loss, so let it say so.
                    let _ = self.device.poll(wgpu::PollType::Poll);
                    self.check_health()?;
                    return Err(Error::Poll(error));
                }
            }
        }
    }
}

/// Locks a mutex, taking over a poisoned one: the data behind it stays valid.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
