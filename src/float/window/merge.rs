//! Outputs added together: a task's windows into the caller's, and full sums (a segment the
//! bins summed, a GPU kernel's counters) into a window.

use super::{
    EMPTY, ExactFloat, ExactFloatSum, FloatWindows, SPILLED, WIDTH, Window, base_for, span,
};

impl<T: ExactFloat> FloatWindows<T> {
    /// Adds output `j` of `other` to output `i`.
    pub(crate) fn merge_from(&mut self, i: usize, other: &FloatWindows<T>, j: usize) {
        let theirs = other.windows[j];
        if theirs.base == SPILLED {
            let full = other.expand(&theirs);
            return self.add_sum(i, &full);
        }
        self.merge_window(i, theirs);
    }

    /// Output `j` of `other` as output `i`, which has had nothing added (a copy, where a merge
    /// would normalize and place).
    pub(crate) fn copy_from(&mut self, i: usize, other: &FloatWindows<T>, j: usize) {
        let mut theirs = other.windows[j];
        if theirs.base == SPILLED {
            theirs.digits[0] = self.spilled.len() as i64;
            self.spilled
                .push(other.spilled[other.windows[j].digits[0] as usize].clone());
        }
        self.windows[i] = theirs;
    }

    /// The first output's address (outputs lie [`Self::BYTES_PER_OUTPUT`] apart), for
    /// prefetching.
    pub(crate) fn as_ptr(&self) -> *const u8 {
        self.windows.as_ptr().cast()
    }

    /// Appends `other`'s outputs after ours (a spilled one keeps its full sum, now at our end).
    pub(crate) fn append(&mut self, mut other: FloatWindows<T>) {
        let moved = self.spilled.len() as i64;
        for window in &mut other.windows {
            if window.base == SPILLED {
                window.digits[0] += moved;
            }
        }
        self.windows.append(&mut other.windows);
        self.spilled.append(&mut other.spilled);
    }

    /// Adds a window's sum to output `i`.
    fn merge_window(&mut self, i: usize, mut theirs: Window) {
        let ours = &mut self.windows[i];
        ours.flags |= theirs.flags;
        if !theirs.holds_digits() {
            return;
        }
        theirs.normalize();
        let Some(their_span) = theirs.span() else {
            return;
        };
        match ours.base {
            SPILLED => {
                let full = self.expand(&theirs);
                let index = self.windows[i].digits[0] as usize;
                self.spilled[index].add_digits(&full);
            }
            EMPTY => {
                let flags = ours.flags;
                *ours = Window { flags, ..theirs };
            }
            _ => {
                ours.normalize();
                let (lo, hi) = match ours.span() {
                    None => their_span,
                    Some((lo, hi)) => (lo.min(their_span.0), hi.max(their_span.1)),
                };
                let base = base_for::<T>(lo, hi);
                let Some(base) = base else {
                    self.spill(i);
                    return self.merge_window(i, theirs);
                };
                let mut moved = ours.moved_to(base);
                let theirs = theirs.moved_to(base);
                // Both normalized: digits below 2^32 in magnitude, their sums below 2^33.
                for (digit, add) in moved.digits.iter_mut().zip(theirs.digits) {
                    *digit += add;
                }
                moved.normalize();
                *ours = moved;
            }
        }
    }

    /// Adds a full sum (its count aside) to output `i`: a segment summed by the bins, or a GPU
    /// kernel's counters.
    pub(crate) fn add_sum(&mut self, i: usize, sum: &ExactFloatSum<T>) {
        let mut sum = sum.clone();
        sum.normalize();
        let flags = sum.flags() as u8;
        let Some((lo, hi)) = span(&sum.digits) else {
            self.windows[i].flags |= flags;
            return;
        };
        if let Some(base) = base_for::<T>(lo, hi) {
            let mut window = Window {
                flags,
                base: base as u16,
                ..Window::default()
            };
            let top = (base + WIDTH).min(sum.digits.len());
            window.digits[..top - base].copy_from_slice(&sum.digits[base..top]);
            // The window's top digit is signed: fold the sign's extension above it into it.
            if window.digits[WIDTH - 1] == 0xffff_ffff && sum.digits[sum.digits.len() - 1] < 0 {
                window.digits[WIDTH - 1] = -1;
            }
            return self.merge_window(i, window);
        }
        if self.windows[i].base != SPILLED {
            self.spill(i);
        }
        let index = self.windows[i].digits[0] as usize;
        self.spilled[index].add_digits(&sum);
    }
}

impl<T: ExactFloat> ExactFloatSum<T> {
    /// Adds another sum's digits and flags, not its count.
    pub(super) fn add_digits(&mut self, other: &ExactFloatSum<T>) {
        let mut other = other.clone();
        other.normalize();
        self.normalize();
        // Both normalized: each digit below 2^32 in magnitude; their sums below 2^33.
        for (digit, theirs) in self.digits.iter_mut().zip(&other.digits) {
            *digit += theirs;
        }
        self.normalize();
        self.raise(other.flags());
    }
}
