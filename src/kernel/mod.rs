//! The kernel vocabulary: which arithmetic adds the elements ([`ShaderVariant`]) and how a
//! workgroup combines its invocations' sums ([`Reduction`]), together a [`KernelChoice`].
//!
//! Every list of choices gpusum shows or loops over (the CLI's values, the selftest's targets, the
//! bench's backends, the tests' adapter loops) derives from the `ALL` lists and
//! [`KernelChoice::all_supported`] here.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

mod arrays;

pub use arrays::{ArrayLayout, FloatAccumulation};

/// Which arithmetic adds the elements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ShaderVariant {
    /// Core WGSL: 64-bit values emulated with u32 limbs and carries. Runs everywhere.
    Emulated,
    /// Native u64 arithmetic; needs SHADER_INT64.
    Native,
}

/// How a workgroup combines its invocations' sums.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Reduction {
    /// A tree in workgroup memory, with barriers. Runs everywhere.
    Tree,
    /// `subgroupAdd` first, then one partial per subgroup; needs SUBGROUP.
    Subgroup,
}

/// One part of a kernel, as messages name it: "the native shader", "the subgroup reduction".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KernelPart {
    /// The arithmetic.
    Variant(ShaderVariant),
    /// The workgroup reduction.
    Reduction(Reduction),
}

/// A whole kernel: its arithmetic and its reduction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct KernelChoice {
    /// The arithmetic.
    pub variant: ShaderVariant,
    /// The workgroup reduction.
    pub reduction: Reduction,
}

/// A name that is not one of the choices; see [`ShaderVariant::from_str`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} {name:?}: use {}", .expected.join(", "))]
pub struct UnknownName {
    /// "shader variant" or "reduction".
    pub kind: &'static str,
    /// What was asked for.
    pub name: String,
    /// The names that exist.
    pub expected: Vec<&'static str>,
}

impl ShaderVariant {
    /// Every variant, portable first.
    pub const ALL: [ShaderVariant; 2] = [ShaderVariant::Emulated, ShaderVariant::Native];

    /// Lower-case name, as the CLI and JSON spell it.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            ShaderVariant::Emulated => "emulated",
            ShaderVariant::Native => "native",
        }
    }

    /// One line for help texts.
    #[must_use]
    pub const fn summary(self) -> &'static str {
        match self {
            ShaderVariant::Emulated => {
                "64-bit values as u32 limbs with carries; runs on every adapter"
            }
            ShaderVariant::Native => "native 64-bit integers; needs SHADER_INT64",
        }
    }

    /// The device feature this variant needs, with its name for messages.
    #[must_use]
    pub const fn requirement(self) -> Option<(wgpu::Features, &'static str)> {
        match self {
            ShaderVariant::Emulated => None,
            ShaderVariant::Native => Some((wgpu::Features::SHADER_INT64, "SHADER_INT64")),
        }
    }
}

impl Reduction {
    /// Every reduction, portable first.
    pub const ALL: [Reduction; 2] = [Reduction::Tree, Reduction::Subgroup];

    /// Lower-case name, as the CLI and JSON spell it.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Reduction::Tree => "tree",
            Reduction::Subgroup => "subgroup",
        }
    }

    /// One line for help texts.
    #[must_use]
    pub const fn summary(self) -> &'static str {
        match self {
            Reduction::Tree => "a tree in workgroup memory; runs on every adapter",
            Reduction::Subgroup => "subgroupAdd, then one partial per subgroup; needs SUBGROUP",
        }
    }

    /// The device feature this reduction needs, with its name for messages.
    #[must_use]
    pub const fn requirement(self) -> Option<(wgpu::Features, &'static str)> {
        match self {
            Reduction::Tree => None,
            Reduction::Subgroup => Some((wgpu::Features::SUBGROUP, "SUBGROUP")),
        }
    }
}

impl KernelPart {
    fn requirement(self) -> Option<(wgpu::Features, &'static str)> {
        match self {
            KernelPart::Variant(variant) => variant.requirement(),
            KernelPart::Reduction(reduction) => reduction.requirement(),
        }
    }

    /// The feature this part needs and `features` lacks, by name.
    fn missing_from(self, features: wgpu::Features) -> Option<&'static str> {
        self.requirement()
            .filter(|(needed, _)| !features.contains(*needed))
            .map(|(_, name)| name)
    }
}

impl KernelChoice {
    /// Emulated arithmetic with the tree reduction: runs on every adapter.
    pub const PORTABLE: KernelChoice = KernelChoice::new(ShaderVariant::Emulated, Reduction::Tree);

    /// A variant with a reduction.
    #[must_use]
    pub const fn new(variant: ShaderVariant, reduction: Reduction) -> Self {
        Self { variant, reduction }
    }

    /// Device features this kernel needs.
    pub fn required_features(self) -> wgpu::Features {
        self.parts()
            .into_iter()
            .filter_map(KernelPart::requirement)
            .fold(wgpu::Features::empty(), |all, (feature, _)| all | feature)
    }

    /// Every kernel a device with `features` can run, portable first.
    #[must_use]
    pub fn all_supported(features: wgpu::Features) -> Vec<KernelChoice> {
        ShaderVariant::ALL
            .into_iter()
            .flat_map(|variant| Reduction::ALL.map(|reduction| Self::new(variant, reduction)))
            .filter(|choice| features.contains(choice.required_features()))
            .collect()
    }

    /// The fastest kernel `features` allow: the emulated arithmetic everywhere (it measured
    /// faster than native 64-bit integers on every adapter measured: 30% on an NVIDIA H100, 80%
    /// on lavapipe; GPUs emulate 64-bit adds anyway), with the subgroup reduction where there is
    /// one (3.5x the tree's speed on short ranges).
    #[must_use]
    pub fn best(features: wgpu::Features) -> KernelChoice {
        Self::resolve(None, None, features).unwrap_or(Self::PORTABLE)
    }

    /// The kernel for what the caller forced (`None` takes the best `features` allow).
    ///
    /// # Errors
    /// The first forced part that `features` cannot run, with the missing feature's name.
    pub fn resolve(
        variant: Option<ShaderVariant>,
        reduction: Option<Reduction>,
        features: wgpu::Features,
    ) -> Result<KernelChoice, (KernelPart, &'static str)> {
        // The emulated arithmetic is the default even where native 64-bit integers exist.
        let variant = pick(
            variant,
            [ShaderVariant::Emulated; 2],
            KernelPart::Variant,
            features,
        )?;
        let reduction = pick(
            reduction,
            [Reduction::Subgroup, Reduction::Tree],
            KernelPart::Reduction,
            features,
        )?;
        Ok(Self::new(variant, reduction))
    }

    fn parts(self) -> [KernelPart; 2] {
        [
            KernelPart::Variant(self.variant),
            KernelPart::Reduction(self.reduction),
        ]
    }
}

impl fmt::Display for ShaderVariant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for Reduction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for KernelPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KernelPart::Variant(variant) => write!(f, "{variant} shader"),
            KernelPart::Reduction(reduction) => write!(f, "{reduction} reduction"),
        }
    }
}

impl fmt::Display for KernelChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} / {}", self.variant, self.reduction)
    }
}

/// The forced item if `features` can run it, else the first of `preference` that they can.
fn pick<T: Copy>(
    forced: Option<T>,
    preference: [T; 2],
    part: fn(T) -> KernelPart,
    features: wgpu::Features,
) -> Result<T, (KernelPart, &'static str)> {
    let missing = |item: T| part(item).missing_from(features);
    match forced {
        Some(item) => match missing(item) {
            Some(feature) => Err((part(item), feature)),
            None => Ok(item),
        },
        // The second of each preference list is the portable one, which needs nothing.
        None => Ok(preference
            .into_iter()
            .find(|&item| missing(item).is_none())
            .unwrap_or(preference[1])),
    }
}

pub(crate) fn parse_name<T: Copy>(
    kind: &'static str,
    all: &[T],
    name_of: fn(T) -> &'static str,
    text: &str,
) -> Result<T, UnknownName> {
    all.iter()
        .copied()
        .find(|&item| name_of(item).eq_ignore_ascii_case(text.trim()))
        .ok_or_else(|| UnknownName {
            kind,
            name: text.to_owned(),
            expected: all.iter().map(|&item| name_of(item)).collect(),
        })
}

impl FromStr for ShaderVariant {
    type Err = UnknownName;

    fn from_str(text: &str) -> Result<Self, UnknownName> {
        parse_name("shader variant", &Self::ALL, Self::name, text)
    }
}

impl FromStr for Reduction {
    type Err = UnknownName;

    fn from_str(text: &str) -> Result<Self, UnknownName> {
        parse_name("reduction", &Self::ALL, Self::name, text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wgpu::Features as F;

    #[test]
    fn features_decide_what_runs_and_what_is_best() {
        assert_eq!(
            KernelChoice::all_supported(F::empty()),
            [KernelChoice::PORTABLE]
        );
        assert_eq!(
            KernelChoice::all_supported(F::SHADER_INT64 | F::SUBGROUP).len(),
            4
        );
        assert_eq!(KernelChoice::best(F::empty()), KernelChoice::PORTABLE);
        assert_eq!(
            KernelChoice::best(F::SUBGROUP | F::SHADER_INT64),
            KernelChoice::new(ShaderVariant::Emulated, Reduction::Subgroup)
        );
    }

    #[test]
    fn a_forced_part_the_device_lacks_is_named_with_its_feature() {
        let forced = KernelChoice::resolve(None, Some(Reduction::Subgroup), F::SHADER_INT64);
        assert_eq!(
            forced,
            Err((KernelPart::Reduction(Reduction::Subgroup), "SUBGROUP"))
        );
        assert_eq!(
            KernelPart::Variant(ShaderVariant::Native).to_string(),
            "native shader"
        );
        assert_eq!(
            KernelChoice::resolve(Some(ShaderVariant::Emulated), None, F::all()),
            Ok(KernelChoice::new(
                ShaderVariant::Emulated,
                Reduction::Subgroup
            ))
        );
    }

    #[test]
    fn names_round_trip() {
        for variant in ShaderVariant::ALL {
            assert_eq!(variant.name().parse(), Ok(variant));
        }
        for reduction in Reduction::ALL {
            assert_eq!(reduction.name().parse(), Ok(reduction));
        }
        let error = "fast".parse::<ShaderVariant>().unwrap_err();
        assert_eq!(
            error.to_string(),
            "unknown shader variant \"fast\": use emulated, native"
        );
    }
}
