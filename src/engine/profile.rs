//! A machine's measured rates (`gpusum bench --save-profile` writes one; `auto` plans with it):
//! the CPU twin's on one thread and on the pool, each hardware adapter's keyed by its name and
//! driver, and what looking for adapters costs. Its text format is defined here alone.
//!
//! ```text
//! gpusum-profile  1
//! cpu     isa=avx512  threads=2  one.range=2.1e10 ... all.call=3e-5
//! look    seconds=0.031
//! adapter name=NVIDIA H200 (vulkan)  driver=NVIDIA 580.159.04  range=4e12 ... open=0.22
//! ```
//!
//! Lines are tab-separated `key=value` fields after a kind; unknown kinds and keys are skipped,
//! so a newer gpusum's profile still reads.

use std::path::PathBuf;

use super::rates::{GpuRates, Rates};
use crate::Error;
use crate::cpu::Isa;

/// The first line of every profile, with the format's version.
const HEADER: &str = "gpusum-profile\t1";

/// The CPU twin's rates on the machine that measured them.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct CpuProfile {
    /// The instruction set the twin ran with.
    pub isa: Isa,
    /// Threads in the pool.
    pub threads: usize,
    /// On one thread.
    pub one: Rates,
    /// On the pool.
    pub all: Rates,
}

/// One adapter's rates.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct AdapterProfile {
    /// "name (api)".
    pub adapter: String,
    /// The driver, as the adapter reports it: the key together with the name.
    pub driver: String,
    /// What was measured.
    pub rates: GpuRates,
}

/// A machine's measured rates.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct Profile {
    /// The CPU twin's, if measured.
    pub cpu: Option<CpuProfile>,
    /// Seconds to create an instance and list the adapters, if measured.
    pub look: Option<f64>,
    /// Each hardware adapter's.
    pub adapters: Vec<AdapterProfile>,
}

impl Profile {
    /// Where the profile lives: `GPUSUM_PROFILE` if set (`none` for no profile), else
    /// `gpusum/profile.tsv` in the user's cache directory (`XDG_CACHE_HOME` or `~/.cache`,
    /// `~/Library/Caches` on macOS, `%LOCALAPPDATA%` on Windows). `None` where there is none.
    #[must_use]
    pub fn path() -> Option<PathBuf> {
        if let Some(path) = std::env::var_os("GPUSUM_PROFILE") {
            return (path != "none" && !path.is_empty()).then(|| path.into());
        }
        let var = |name: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let cache = if cfg!(windows) {
            var("LOCALAPPDATA")
        } else if cfg!(target_os = "macos") {
            var("HOME").map(|home| home.join("Library/Caches"))
        } else {
            var("XDG_CACHE_HOME").or_else(|| var("HOME").map(|home| home.join(".cache")))
        };
        cache.map(|dir| dir.join("gpusum").join("profile.tsv"))
    }

    /// The profile at [`Profile::path`], if there is one.
    ///
    /// # Errors
    /// [`Error::Read`] when it exists but cannot be read, [`Error::InvalidProfile`] when it is
    /// not a profile.
    pub fn load() -> Result<Option<Profile>, Error> {
        let Some(path) = Self::path() else {
            return Ok(None);
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => Self::from_text(&text)
                .map(Some)
                .map_err(|error| match error {
                    Error::InvalidProfile { reason } => Error::InvalidProfile {
                        reason: format!(
                            "{}: {reason} (delete it, or write it again with `gpusum bench \
                         --save-profile`; GPUSUM_PROFILE=none ignores it)",
                            path.display()
                        ),
                    },
                    other => other,
                }),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(Error::Read {
                input: path.display().to_string(),
                source,
            }),
        }
    }

    /// The CPU's rates, if they were measured with this instruction set and thread count.
    #[must_use]
    pub fn cpu_rates(&self, isa: Isa, threads: usize) -> Option<(Rates, Rates)> {
        self.cpu
            .as_ref()
            .filter(|cpu| cpu.isa == isa && cpu.threads == threads)
            .map(|cpu| (cpu.one, cpu.all))
    }

    /// The rates of the adapter with this label and driver, if measured.
    #[must_use]
    pub fn adapter_rates(&self, adapter: &str, driver: &str) -> Option<GpuRates> {
        self.adapters
            .iter()
            .find(|entry| entry.adapter == adapter && entry.driver == driver)
            .map(|entry| entry.rates)
    }

    /// The profile as text, one line per entry.
    #[must_use]
    pub fn to_text(&self) -> String {
        let mut lines = vec![HEADER.to_owned()];
        if let Some(cpu) = &self.cpu {
            let mut fields = vec![
                "cpu".to_owned(),
                format!("isa={}", cpu.isa.name()),
                format!("threads={}", cpu.threads),
            ];
            fields.extend(rate_fields("one.", &cpu.one));
            fields.extend(rate_fields("all.", &cpu.all));
            lines.push(fields.join("\t"));
        }
        if let Some(look) = self.look {
            lines.push(format!("look\tseconds={look:e}"));
        }
        for entry in &self.adapters {
            let mut fields = vec![
                "adapter".to_owned(),
                format!("name={}", clean(&entry.adapter)),
                format!("driver={}", clean(&entry.driver)),
            ];
            fields.extend(rate_fields("", &entry.rates.sums));
            fields.push(format!("upload={:e}", entry.rates.upload));
            fields.push(format!("open={:e}", entry.rates.open));
            lines.push(fields.join("\t"));
        }
        lines.join("\n") + "\n"
    }

    /// Reads [`Profile::to_text`]'s format.
    ///
    /// # Errors
    /// [`Error::InvalidProfile`] for text that does not start with the header, or an entry
    /// whose number or name cannot be read.
    pub fn from_text(text: &str) -> Result<Profile, Error> {
        let mut lines = text.lines();
        if lines.next().map(str::trim_end) != Some(HEADER) {
            return Err(invalid("it does not start with \"gpusum-profile\\t1\""));
        }
        let mut profile = Profile::default();
        for line in lines.filter(|line| !line.trim().is_empty()) {
            let mut fields = line.split('\t');
            let kind = fields.next().unwrap_or_default();
            let fields: Vec<(&str, &str)> = fields.filter_map(|f| f.split_once('=')).collect();
            let field = |key: &str| fields.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
            let number = |key: &str| -> Result<f64, Error> {
                field(key)
                    .and_then(|v| v.parse::<f64>().ok())
                    .filter(|v| v.is_finite() && *v > 0.0)
                    .ok_or_else(|| invalid(&format!("{kind}: no positive number for {key}")))
            };
            let rates = |prefix: &str| -> Result<Rates, Error> {
                Ok(Rates {
                    range: number(&format!("{prefix}range"))?,
                    ints: number(&format!("{prefix}ints"))?,
                    f32: number(&format!("{prefix}f32"))?,
                    f64: number(&format!("{prefix}f64"))?,
                    call: number(&format!("{prefix}call"))?,
                })
            };
            match kind {
                "cpu" => {
                    let isa = field("isa")
                        .and_then(|name| Isa::ALL.into_iter().find(|isa| isa.name() == name))
                        .ok_or_else(|| invalid("cpu: no known isa"))?;
                    let threads = field("threads")
                        .and_then(|v| v.parse().ok())
                        .ok_or_else(|| invalid("cpu: no thread count"))?;
                    profile.cpu = Some(CpuProfile {
                        isa,
                        threads,
                        one: rates("one.")?,
                        all: rates("all.")?,
                    });
                }
                "look" => profile.look = Some(number("seconds")?),
                "adapter" => profile.adapters.push(AdapterProfile {
                    adapter: field("name")
                        .ok_or_else(|| invalid("adapter: no name"))?
                        .into(),
                    driver: field("driver").unwrap_or_default().into(),
                    rates: GpuRates {
                        sums: rates("")?,
                        upload: number("upload")?,
                        open: number("open")?,
                    },
                }),
                _ => {}
            }
        }
        Ok(profile)
    }
}

fn rate_fields(prefix: &str, rates: &Rates) -> [String; 5] {
    [
        format!("{prefix}range={:e}", rates.range),
        format!("{prefix}ints={:e}", rates.ints),
        format!("{prefix}f32={:e}", rates.f32),
        format!("{prefix}f64={:e}", rates.f64),
        format!("{prefix}call={:e}", rates.call),
    ]
}

/// A name as one field: no tab or line break can end it early.
fn clean(text: &str) -> String {
    text.replace(['\t', '\n', '\r'], " ")
}

fn invalid(reason: &str) -> Error {
    Error::InvalidProfile {
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_reads_back_as_written_and_garbage_is_refused() {
        let rates = Rates::cpu(Isa::Avx2, 4);
        let profile = Profile {
            cpu: Some(CpuProfile {
                isa: Isa::Avx2,
                threads: 4,
                one: Rates::cpu(Isa::Avx2, 1),
                all: rates,
            }),
            look: Some(0.031),
            adapters: vec![AdapterProfile {
                adapter: "NVIDIA H200 (vulkan)".into(),
                driver: "NVIDIA\t580.159.04".into(),
                rates: GpuRates::for_device_type(wgpu::DeviceType::DiscreteGpu),
            }],
        };
        let back = Profile::from_text(&profile.to_text()).unwrap();
        assert_eq!(back.cpu, profile.cpu);
        assert_eq!(back.look, Some(0.031));
        assert_eq!(back.adapters[0].driver, "NVIDIA 580.159.04");
        assert_eq!(
            back.cpu_rates(Isa::Avx2, 4),
            Some((Rates::cpu(Isa::Avx2, 1), rates))
        );
        assert_eq!(back.cpu_rates(Isa::Avx2, 8), None);
        assert!(
            back.adapter_rates("NVIDIA H200 (vulkan)", "NVIDIA 580.159.04")
                .is_some()
        );
        for bad in [
            "",
            "gpusum-profile\t2\n",
            "gpusum-profile\t1\nlook\tseconds=-1\n",
        ] {
            assert!(matches!(
                Profile::from_text(bad),
                Err(Error::InvalidProfile { .. })
            ));
        }
        // Unknown kinds and keys are skipped.
        let newer = "gpusum-profile\t1\nmoon\tphase=full\nlook\tseconds=0.5\textra=1\n";
        assert_eq!(Profile::from_text(newer).unwrap().look, Some(0.5));
    }
}
