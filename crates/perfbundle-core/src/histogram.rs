//! A mergeable log-bucketed histogram (the DDSketch layout) with exact count,
//! sum, min and max beside it.
//!
//! A positive value `v` falls in bucket `i = ceil(ln(v) / ln(gamma))`, which
//! covers `(gamma^(i-1), gamma^i]`; with `gamma = (1 + a) / (1 - a)` every
//! value read back from a bucket is within the relative accuracy `a` of the
//! values in it. Negative values are mirrored into a second set of buckets and
//! zeros (|v| below [`MIN_MAGNITUDE`]) are counted apart. Merging two
//! histograms of the same accuracy adds their counts, so histograms of time
//! buckets, of time ranges and of shards combine exactly.

use serde::{Deserialize, Serialize};

/// Relative accuracy used by perfbundle 1.x: 0.5 %.
pub const DEFAULT_RELATIVE_ACCURACY: f64 = 0.005;
/// Magnitudes below this are counted as zero.
pub const MIN_MAGNITUDE: f64 = 1e-9;
/// The coarsest accuracy histograms go to when their memory runs out
/// ([`LogHistogram::coarser_accuracy`]): 0.005 halved six times is 0.31.
pub const COARSEST_ACCURACY: f64 = 0.5;

/// Counts of the occupied bucket indices, sorted by index. Memory grows with
/// the number of distinct buckets hit, not with their range.
#[derive(Debug, Clone, Default, PartialEq)]
struct Dense {
    idx: Vec<i32>,
    counts: Vec<u64>,
}

impl Dense {
    /// Adds `n` to bucket `index`; `true` when that bucket was not occupied before.
    #[inline]
    fn add(&mut self, index: i32, n: u64) -> bool {
        // Fast paths: appending at the end, or hitting the last bucket.
        match self.idx.last() {
            None => {
                self.idx.push(index);
                self.counts.push(n);
                return true;
            }
            Some(&last) if last == index => {
                if let Some(c) = self.counts.last_mut() {
                    *c += n;
                }
                return false;
            }
            Some(&last) if last < index => {
                self.idx.push(index);
                self.counts.push(n);
                return true;
            }
            _ => {}
        }
        match self.idx.binary_search(&index) {
            Ok(p) => {
                self.counts[p] += n;
                false
            }
            Err(p) => {
                self.idx.insert(p, index);
                self.counts.insert(p, n);
                true
            }
        }
    }

    /// Number of occupied buckets.
    fn len(&self) -> usize {
        self.idx.len()
    }

    fn iter(&self) -> impl DoubleEndedIterator<Item = (i32, u64)> + '_ {
        self.idx.iter().copied().zip(self.counts.iter().copied())
    }

    fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Sparse, delta-coded form: `[i0, c0, i1 - i0, c1, …]`.
    fn to_sparse(&self) -> Vec<i64> {
        let mut out = Vec::with_capacity(2 * self.len());
        let mut prev = 0i64;
        for (k, (i, c)) in self.iter().enumerate() {
            let i = i64::from(i);
            out.push(if k == 0 { i } else { i - prev });
            out.push(c as i64);
            prev = i;
        }
        out
    }

    fn from_sparse(v: &[i64]) -> Result<Self, String> {
        if v.len() % 2 != 0 {
            return Err("odd length of a sparse bucket list".into());
        }
        let mut d = Dense::default();
        let mut idx = 0i64;
        for (k, pair) in v.chunks(2).enumerate() {
            idx = if k == 0 { pair[0] } else { idx + pair[0] };
            if k > 0 && pair[0] <= 0 {
                return Err("bucket indices must increase".into());
            }
            if pair[1] < 0 {
                return Err("negative bucket count".into());
            }
            let i = i32::try_from(idx).map_err(|_| "bucket index out of range".to_string())?;
            d.idx.push(i);
            d.counts.push(pair[1] as u64);
        }
        Ok(d)
    }
}

/// A log-bucketed histogram of `f64` values.
#[derive(Debug, Clone, PartialEq)]
pub struct LogHistogram {
    ln_gamma: f64,
    gamma: f64,
    accuracy: f64,
    zeros: u64,
    pos: Dense,
    neg: Dense,
}

impl Default for LogHistogram {
    fn default() -> Self {
        Self::new(DEFAULT_RELATIVE_ACCURACY)
    }
}

impl LogHistogram {
    /// A histogram whose values read back within `relative_accuracy` (0 < a < 1).
    pub fn new(relative_accuracy: f64) -> Self {
        let a = relative_accuracy.clamp(1e-6, 0.5);
        let gamma = (1.0 + a) / (1.0 - a);
        LogHistogram {
            ln_gamma: gamma.ln(),
            gamma,
            accuracy: a,
            zeros: 0,
            pos: Dense::default(),
            neg: Dense::default(),
        }
    }

    pub fn relative_accuracy(&self) -> f64 {
        self.accuracy
    }

    fn index(&self, magnitude: f64) -> i32 {
        let i = (magnitude.ln() / self.ln_gamma).ceil();
        i.clamp(f64::from(i32::MIN / 2), f64::from(i32::MAX / 2)) as i32
    }

    fn value_of(&self, index: i32) -> f64 {
        2.0 * self.gamma.powi(index) / (self.gamma + 1.0)
    }

    /// Adds one value. NaN is ignored. Returns `true` when it occupied a new bucket.
    pub fn add(&mut self, v: f64) -> bool {
        self.add_n(v, 1)
    }

    /// Adds `n` copies of `v`. NaN is ignored. Returns `true` when it occupied a new bucket.
    pub fn add_n(&mut self, v: f64, n: u64) -> bool {
        if v.is_nan() {
            return false;
        }
        if v.abs() < MIN_MAGNITUDE {
            self.zeros += n;
            false
        } else if v > 0.0 {
            let i = self.index(v);
            self.pos.add(i, n)
        } else {
            let i = self.index(-v);
            self.neg.add(i, n)
        }
    }

    /// Number of occupied buckets (a measure of its memory: 12 bytes each).
    pub fn occupied(&self) -> usize {
        self.pos.len() + self.neg.len()
    }

    /// Every occupied bucket as (its value, its count), in ascending order of value.
    pub fn values(&self) -> Vec<(f64, u64)> {
        let mut v: Vec<(f64, u64)> = self.neg.iter().rev().map(|(i, c)| (-self.value_of(i), c)).collect();
        if self.zeros > 0 {
            v.push((0.0, self.zeros));
        }
        v.extend(self.pos.iter().map(|(i, c)| (self.value_of(i), c)));
        v
    }

    /// Number of values added.
    pub fn count(&self) -> u64 {
        self.zeros + self.pos.total() + self.neg.total()
    }

    /// The next coarser accuracy than `a`: that of γ², two neighbouring
    /// buckets as one (about twice the relative error); `None` past
    /// [`COARSEST_ACCURACY`].
    pub fn coarser_accuracy(a: f64) -> Option<f64> {
        let g = (1.0 + a) / (1.0 - a);
        let a2 = (g * g - 1.0) / (g * g + 1.0);
        (a2 <= COARSEST_ACCURACY).then_some(a2)
    }

    /// Goes to `accuracy`, [`LogHistogram::coarser_accuracy`] of its own:
    /// bucket `i` (magnitudes in (γ^(i−1), γ^i]) becomes bucket ⌈i/2⌉ of γ².
    pub fn coarsen_to(&mut self, accuracy: f64) {
        let half = |d: &Dense| {
            let mut out = Dense::default();
            for (i, c) in d.iter() {
                out.add((i + 1).div_euclid(2), c);
            }
            out
        };
        let (pos, neg) = (half(&self.pos), half(&self.neg));
        let zeros = self.zeros;
        *self = LogHistogram::new(accuracy);
        self.zeros = zeros;
        self.pos = pos;
        self.neg = neg;
    }

    /// The same counts in a histogram of `accuracy`: each bucket's count
    /// added at the value it reads back as (within both accuracies).
    pub fn at_accuracy(&self, accuracy: f64) -> LogHistogram {
        if (accuracy - self.accuracy).abs() < 1e-12 {
            return self.clone();
        }
        let mut h = LogHistogram::new(accuracy);
        h.zeros = self.zeros;
        for (i, c) in self.pos.iter() {
            h.add_n(self.value_of(i), c);
        }
        for (i, c) in self.neg.iter() {
            h.add_n(-self.value_of(i), c);
        }
        h
    }

    /// Adds every count of `other`. Both must have the same accuracy.
    pub fn merge(&mut self, other: &LogHistogram) {
        debug_assert!((self.accuracy - other.accuracy).abs() < 1e-12);
        self.zeros += other.zeros;
        for (i, c) in other.pos.iter() {
            self.pos.add(i, c);
        }
        for (i, c) in other.neg.iter() {
            self.neg.add(i, c);
        }
    }

    /// The value of rank `r` (0-based) in ascending order, read from its bucket.
    pub fn value_at_rank(&self, r: u64) -> Option<f64> {
        let mut seen = 0u64;
        for (i, c) in self.neg.iter().rev() {
            seen += c;
            if r < seen {
                return Some(-self.value_of(i));
            }
        }
        seen += self.zeros;
        if r < seen {
            return Some(0.0);
        }
        for (i, c) in self.pos.iter() {
            seen += c;
            if r < seen {
                return Some(self.value_of(i));
            }
        }
        None
    }

    /// The percentile `p` (0..=1) the way k6 computes it — linear interpolation
    /// between the values of rank `floor(p*(n-1))` and `ceil(p*(n-1))` — with
    /// the values read from their buckets and clamped to `[min, max]`.
    pub fn percentile(&self, p: f64, min: f64, max: f64) -> Option<f64> {
        let n = self.count();
        if n == 0 {
            return None;
        }
        let pos = p.clamp(0.0, 1.0) * (n as f64 - 1.0);
        let lo = pos.floor();
        let a = self.value_at_rank(lo as u64)?.clamp(min, max);
        let b = self.value_at_rank(pos.ceil() as u64)?.clamp(min, max);
        Some(a + (b - a) * (pos - lo))
    }

    /// The stored form (see FORMAT.md, "histogram").
    pub fn to_stored(&self) -> StoredHistogram {
        StoredHistogram { zeros: self.zeros, pos: self.pos.to_sparse(), neg: self.neg.to_sparse() }
    }

    /// Rebuilds from the stored form; `relative_accuracy` comes from the entry header.
    pub fn from_stored(s: &StoredHistogram, relative_accuracy: f64) -> Result<Self, String> {
        let mut h = LogHistogram::new(relative_accuracy);
        h.zeros = s.zeros;
        h.pos = Dense::from_sparse(&s.pos)?;
        h.neg = Dense::from_sparse(&s.neg)?;
        Ok(h)
    }
}

/// Serialized histogram: `zeros` count, and `pos`/`neg` as delta-coded sparse
/// pairs `[index0, count0, index1 - index0, count1, …]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StoredHistogram {
    #[serde(default, skip_serializing_if = "is_zero")]
    pub zeros: u64,
    #[serde(deserialize_with = "crate::bounded::vec", default, skip_serializing_if = "Vec::is_empty")]
    pub pos: Vec<i64>,
    #[serde(deserialize_with = "crate::bounded::vec", default, skip_serializing_if = "Vec::is_empty")]
    pub neg: Vec<i64>,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

/// k6's own percentile over a sorted slice (linear interpolation), as in
/// k6's `TrendSink.P`.
///
/// ```
/// use perfbundle_core::histogram::k6_percentile;
/// let v = [1.0, 2.0, 3.0, 4.0, 5.0];
/// assert_eq!(k6_percentile(&v, 0.5), 3.0);
/// assert!((k6_percentile(&v, 0.9) - 4.6).abs() < 1e-12);
/// ```
pub fn k6_percentile(sorted: &[f64], p: f64) -> f64 {
    match sorted.len() {
        0 => 0.0,
        1 => sorted[0],
        n => {
            let i = p * (n as f64 - 1.0);
            let j = sorted[i.floor() as usize];
            let k = sorted[i.ceil() as usize];
            j + (k - j) * (i - i.floor())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn percentiles_are_within_accuracy() {
        let mut h = LogHistogram::default();
        let mut vals: Vec<f64> = (1..=10_000).map(|i| f64::from(i) * 0.37).collect();
        for v in &vals {
            h.add(*v);
        }
        vals.sort_by(f64::total_cmp);
        for p in [0.5, 0.9, 0.95, 0.99] {
            let exact = k6_percentile(&vals, p);
            let approx = h.percentile(p, vals[0], vals[vals.len() - 1]).unwrap();
            assert!(((approx - exact) / exact).abs() < 0.006, "p{p}: {approx} vs {exact}");
        }
    }

    #[test]
    fn handles_zero_and_negative() {
        let mut h = LogHistogram::default();
        for v in [-5.0, -1.0, 0.0, 0.0, 2.0] {
            h.add(v);
        }
        assert_eq!(h.count(), 5);
        assert!((h.value_at_rank(0).unwrap() + 5.0).abs() < 0.03);
        assert_eq!(h.value_at_rank(2), Some(0.0));
        assert!((h.value_at_rank(4).unwrap() - 2.0).abs() < 0.02);
        assert_eq!(h.value_at_rank(5), None);
    }

    #[test]
    fn a_coarser_accuracy_keeps_every_count_and_reads_back_within_it() {
        let mut h = LogHistogram::default();
        let vals: Vec<f64> = (1..=5000).map(|i| i as f64 * 0.37).chain((1..100).map(|i| -(i as f64))).collect();
        for v in &vals {
            h.add(*v);
        }
        h.add(0.0);
        let mut a = DEFAULT_RELATIVE_ACCURACY;
        while let Some(next) = LogHistogram::coarser_accuracy(a) {
            let mut c = h.clone();
            c.coarsen_to(next);
            // Same as adding every value at that accuracy in the first place.
            let mut direct = LogHistogram::new(next);
            for v in &vals {
                direct.add(*v);
            }
            direct.add(0.0);
            assert_eq!(c.count(), h.count());
            assert_eq!(c.values().len(), direct.values().len(), "accuracy {next}");
            assert!(c.occupied() < h.occupied() || h.occupied() <= 2);
            h = c;
            a = next;
        }
        assert!(a > 0.3 && a <= COARSEST_ACCURACY, "{a}");
        let back = h.at_accuracy(DEFAULT_RELATIVE_ACCURACY);
        assert_eq!(back.count(), h.count());
        assert_eq!(back.relative_accuracy(), DEFAULT_RELATIVE_ACCURACY);
    }

    #[test]
    fn stored_form_round_trips() {
        let mut h = LogHistogram::default();
        for v in [0.1, 0.1, 5.0, 700.0, -3.0, 0.0] {
            h.add(v);
        }
        let s = h.to_stored();
        let back = LogHistogram::from_stored(&s, DEFAULT_RELATIVE_ACCURACY).unwrap();
        assert_eq!(back, h);
        assert!(LogHistogram::from_stored(&StoredHistogram { zeros: 0, pos: vec![1], neg: vec![] }, 0.005).is_err());
        assert!(LogHistogram::from_stored(&StoredHistogram { zeros: 0, pos: vec![1, 2, 0, 1], neg: vec![] }, 0.005)
            .is_err());
    }

    proptest! {
        /// Merging is the same as adding every value to one histogram, in any split.
        #[test]
        fn merge_equals_union(a in prop::collection::vec(-1e6f64..1e6, 0..200), b in prop::collection::vec(-1e6f64..1e6, 0..200)) {
            let mut ha = LogHistogram::default();
            let mut hb = LogHistogram::default();
            let mut all = LogHistogram::default();
            for v in &a { ha.add(*v); all.add(*v); }
            for v in &b { hb.add(*v); all.add(*v); }
            let mut m1 = ha.clone();
            m1.merge(&hb);
            let mut m2 = hb.clone();
            m2.merge(&ha);
            prop_assert_eq!(m1.to_stored(), all.to_stored());
            prop_assert_eq!(m2.to_stored(), all.to_stored());
        }

        /// Every rank reads back within the relative accuracy of the true value.
        #[test]
        fn ranks_within_accuracy(mut v in prop::collection::vec(1e-3f64..1e7, 1..300)) {
            let mut h = LogHistogram::default();
            for x in &v { h.add(*x); }
            v.sort_by(f64::total_cmp);
            for (r, x) in v.iter().enumerate() {
                let got = h.value_at_rank(r as u64).unwrap();
                prop_assert!(((got - x) / x).abs() <= DEFAULT_RELATIVE_ACCURACY * 1.0001);
            }
        }
    }
}
