//! Memory on transparent huge pages, where Linux gives them on request (its THP setting
//! `madvise`, Debian's default): the bench's data, and large scratch memory of the sums.
//! numpy asks for them for every array of 4 MiB or more, so a Python user's arrays have them;
//! the bench's data and memory-read peak do too, or they would measure a machine slower than the
//! one users have: a one-thread streaming read of 256 MiB ran 22.3 GB/s on 4 KiB pages and 28.6
//! on huge ones (2-core AMD EPYC VM, 2026-12-06).

/// `values` collected into a vector of `len`, its memory advised onto huge pages before any of
/// it is touched. Elsewhere than Linux, a plain vector.
#[cfg(feature = "tools")]
pub fn collect_on_huge_pages<T>(len: usize, values: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut vector = Vec::with_capacity(len);
    let spare = vector.spare_capacity_mut();
    advise_huge_pages(spare.as_mut_ptr() as usize, size_of_val(spare));
    vector.extend(values.into_iter().take(len));
    vector
}

/// `len` zeros, on fresh pages (the allocator's zeroed memory) advised onto huge pages: each
/// page is made by the first thread that writes to it, 2 MiB at a time. Scratch memory that a
/// pool fills side by side spent a third of its time in page faults on 4 KiB pages.
pub(crate) fn zeroed_on_huge_pages<T: bytemuck::Zeroable>(len: usize) -> Vec<T> {
    let mut vector: Vec<T> = bytemuck::zeroed_vec(len);
    advise_huge_pages(vector.as_mut_ptr() as usize, size_of_val(&*vector));
    vector
}

#[cfg(target_os = "linux")]
fn advise_huge_pages(start: usize, bytes: usize) {
    // SAFETY: sysconf reads a constant of the system.
    let page = match unsafe { libc::sysconf(libc::_SC_PAGESIZE) } {
        size if size > 0 => size as usize,
        _ => return,
    };
    let (first, end) = (start.next_multiple_of(page), (start + bytes) / page * page);
    if end > first {
        // SAFETY: the whole pages from first to end lie inside memory the caller's vector
        // owns; the advice changes how they are backed, never what they hold. A refusal (THP
        // off) leaves them as they were.
        unsafe { libc::madvise(first as *mut libc::c_void, end - first, libc::MADV_HUGEPAGE) };
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge_pages(_start: usize, _bytes: usize) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "tools")]
    #[test]
    fn the_values_are_collected_whatever_the_pages() {
        let values = collect_on_huge_pages(1 << 20, (0u64..).map(|i| i * 3));
        assert_eq!(values.len(), 1 << 20);
        assert!(values.iter().enumerate().all(|(i, &v)| v == i as u64 * 3));
        assert_eq!(collect_on_huge_pages(3, [1u8, 2]), [1, 2]);
        assert!(collect_on_huge_pages::<u8>(0, []).is_empty());
    }

    #[test]
    fn zeros_are_zeros_whatever_the_pages() {
        assert!(zeroed_on_huge_pages::<u64>(1 << 20).iter().all(|&v| v == 0));
        assert!(zeroed_on_huge_pages::<u8>(0).is_empty());
    }
}
