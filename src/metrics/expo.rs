//! The base-2 exponential histogram aggregation (OTel metrics SDK spec, "Base2
//! Exponential Bucket Histogram Aggregation"; mapping functions from the data model).
//!
//! Bucket `i` at scale `s` holds values in `(base^i, base^(i+1)]`, `base = 2^(2^-s)`. The
//! histogram starts at the maximum scale and lowers it, as little as needed, whenever a
//! value would not fit in `max_size` buckets.

/// Default most buckets per range.
pub(crate) const DEFAULT_MAX_SIZE: u32 = 160;
/// Default (and highest allowed) scale.
pub(crate) const DEFAULT_MAX_SCALE: i32 = 20;
/// The lowest scale: at -10 every normal float maps to index -1 or 0.
pub(crate) const MIN_SCALE: i32 = -10;

/// Bits of an `f64` significand.
const MANTISSA_BITS: u32 = 52;
const MANTISSA_MASK: u64 = (1 << MANTISSA_BITS) - 1;
const EXPONENT_BIAS: i64 = 1023;

/// The bucket index of a positive finite `value` at `scale`. Subnormal values are
/// rounded up to the smallest normal value (allowed by the spec).
pub(crate) fn map_to_index(value: f64, scale: i32) -> i64 {
    let value = value.max(f64::MIN_POSITIVE);
    let bits = value.to_bits();
    let exponent = ((bits >> MANTISSA_BITS) & 0x7ff) as i64 - EXPONENT_BIAS;
    let power_of_two = bits & MANTISSA_MASK == 0;
    if scale <= 0 {
        // Exact powers of two are the upper bound of the bucket below.
        let e = if power_of_two { exponent - 1 } else { exponent };
        return e >> (-scale);
    }
    if power_of_two {
        return (exponent << scale) - 1;
    }
    // ceil(log2(value) * 2^scale) - 1; may be off by one right at a boundary, which the
    // data model allows.
    let scale_factor = std::f64::consts::LOG2_E * f64::from(1u32 << scale.min(30));
    let index = (value.ln() * scale_factor).ceil() as i64 - 1;
    // Keep it inside the exact bounds of the value's power-of-two range.
    let lower = exponent << scale;
    let upper = ((exponent + 1) << scale) - 1;
    index.clamp(lower, upper)
}

/// A contiguous run of bucket counts.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Run {
    /// Index of `counts[0]`.
    pub(crate) start: i64,
    pub(crate) counts: Vec<u64>,
}

impl Run {
    fn end(&self) -> i64 {
        self.start + self.counts.len() as i64 - 1
    }

    fn add(&mut self, index: i64) {
        if self.counts.is_empty() {
            self.start = index;
            self.counts.push(1);
            return;
        }
        if index < self.start {
            let grow = (self.start - index) as usize;
            let mut counts = vec![0; grow];
            counts.append(&mut self.counts);
            self.counts = counts;
            self.start = index;
        } else if index > self.end() {
            let len = (index - self.start + 1) as usize;
            self.counts.resize(len, 0);
        }
        if let Some(c) = self.counts.get_mut((index - self.start) as usize) {
            *c += 1;
        }
    }

    /// Merges buckets for a scale `change` lower.
    fn downscale(&mut self, change: u32) {
        if change == 0 || self.counts.is_empty() {
            return;
        }
        let new_start = self.start >> change;
        let new_len = ((self.end() >> change) - new_start + 1) as usize;
        let mut counts = vec![0u64; new_len];
        for (i, c) in self.counts.iter().enumerate() {
            let j = ((self.start + i as i64) >> change) - new_start;
            if let Some(slot) = counts.get_mut(j as usize) {
                *slot += c;
            }
        }
        self.start = new_start;
        self.counts = counts;
    }
}

/// One series' exponential histogram.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ExpoState {
    pub(crate) max_size: u32,
    pub(crate) scale: i32,
    pub(crate) count: u64,
    pub(crate) zero_count: u64,
    pub(crate) sum: f64,
    pub(crate) min: f64,
    pub(crate) max: f64,
    pub(crate) positive: Run,
}

impl ExpoState {
    pub(crate) fn new(max_size: u32, max_scale: i32) -> Self {
        ExpoState {
            max_size: max_size.max(2),
            scale: max_scale.clamp(MIN_SCALE, DEFAULT_MAX_SCALE),
            count: 0,
            zero_count: 0,
            sum: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            positive: Run::default(),
        }
    }

    /// Records a finite, non-negative value (the caller filters the others).
    pub(crate) fn record(&mut self, value: f64) {
        self.count += 1;
        self.sum += value;
        self.min = self.min.min(value);
        self.max = self.max.max(value);
        if value == 0.0 {
            self.zero_count += 1;
            return;
        }
        let mut index = map_to_index(value, self.scale);
        if !self.positive.counts.is_empty() {
            let low = index.min(self.positive.start);
            let high = index.max(self.positive.end());
            let change = self.scale_change(low, high);
            if change > 0 {
                self.positive.downscale(change);
                self.scale -= change as i32;
                index = map_to_index(value, self.scale);
            }
        }
        self.positive.add(index);
    }

    /// How much the scale must drop for `low..=high` to fit in `max_size` buckets.
    fn scale_change(&self, mut low: i64, mut high: i64) -> u32 {
        let mut change = 0u32;
        let room = i64::from(self.max_size);
        while high - low >= room && self.scale - (change as i32) > MIN_SCALE {
            low >>= 1;
            high >>= 1;
            change += 1;
        }
        change
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn powers_of_two_are_upper_bounds() {
        assert_eq!(map_to_index(1.0, 0), -1);
        assert_eq!(map_to_index(2.0, 0), 0);
        assert_eq!(map_to_index(3.0, 0), 1);
        assert_eq!(map_to_index(4.0, 0), 1);
        assert_eq!(map_to_index(1.0, 20), -1);
        assert_eq!(map_to_index(2.0, 20), (1 << 20) - 1);
        assert_eq!(map_to_index(4.0, -1), 0);
        assert_eq!(map_to_index(5.0, -1), 1);
        // 3 at scale 6: 2^(101/64) = 2.986.. < 3 <= 2^(102/64) = 3.018..
        assert_eq!(map_to_index(3.0, 6), 101);
    }

    #[test]
    fn downscale_merges_neighbours() {
        let mut r = Run {
            start: -3,
            counts: vec![1, 2, 3, 4, 5],
        };
        // Indices -3..=1 >> 1: -2, -1, -1, 0, 0.
        r.downscale(1);
        assert_eq!(r.start, -2);
        assert_eq!(r.counts, vec![1, 5, 9]);
    }
}
