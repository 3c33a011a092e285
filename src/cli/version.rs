//! Versions for `--version`, JSON and JUnit: gpusum's, and the wgpu it was built with (read from
//! the Cargo.lock it was built from).

/// The wgpu version this binary was built with.
pub fn wgpu() -> &'static str {
    const LOCK: &str = include_str!("../../Cargo.lock");
    LOCK.split("[[package]]")
        .find(|package| package.contains("\nname = \"wgpu\"\n"))
        .and_then(|package| package.lines().find_map(|l| l.strip_prefix("version = \"")))
        .map_or("unknown", |version| version.trim_end_matches('"'))
}

/// `gpusum --version`'s text after the name.
pub fn long() -> &'static str {
    static LONG: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    LONG.get_or_init(|| format!("{} (wgpu {})", gpusum::json::GPUSUM_VERSION, wgpu()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_wgpu_version_is_read_from_the_lock_file() {
        assert!(super::wgpu().starts_with("30."), "{}", super::wgpu());
    }
}
