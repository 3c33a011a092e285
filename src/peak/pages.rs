//! Memory for measured data on transparent huge pages, where Linux gives them on request (its
//! THP setting `madvise`, Debian's default). numpy asks for them for every array of 4 MiB or more,
//! so a Python user's arrays have them; the bench's data and memory-read peak do too, or they
//! would measure a machine slower than the one users have: a one-thread streaming read of
//! 256 MiB ran 22.3 GB/s on 4 KiB pages and 28.6 on huge ones (2-core AMD EPYC VM, 2026-12-06).

use std::mem::MaybeUninit;

/// `values` collected into a vector of `len`, its memory advised onto huge pages before any of
/// it is touched. Elsewhere than Linux, a plain vector.
pub fn collect_on_huge_pages<T>(len: usize, values: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut vector = Vec::with_capacity(len);
    advise_huge_pages(vector.spare_capacity_mut());
    vector.extend(values.into_iter().take(len));
    vector
}

#[cfg(target_os = "linux")]
fn advise_huge_pages<T>(memory: &mut [MaybeUninit<T>]) {
    // SAFETY: sysconf reads a constant of the system.
    let page = match unsafe { libc::sysconf(libc::_SC_PAGESIZE) } {
        size if size > 0 => size as usize,
        _ => return,
    };
    let start = (memory.as_mut_ptr() as usize).next_multiple_of(page);
    let end = (memory.as_mut_ptr() as usize + size_of_val(memory)) / page * page;
    if end > start {
        // SAFETY: the whole pages from start to end lie inside `memory`, which the vector owns;
        // the advice changes how they are backed, never what they hold. A refusal (THP off)
        // leaves them as they were.
        unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE) };
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge_pages<T>(_memory: &mut [MaybeUninit<T>]) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_values_are_collected_whatever_the_pages() {
        let values = collect_on_huge_pages(1 << 20, (0u64..).map(|i| i * 3));
        assert_eq!(values.len(), 1 << 20);
        assert!(values.iter().enumerate().all(|(i, &v)| v == i as u64 * 3));
        assert_eq!(collect_on_huge_pages(3, [1u8, 2]), [1, 2]);
        assert!(collect_on_huge_pages::<u8>(0, []).is_empty());
    }
}
