//! The per-layer numbers: moments, ratios, histograms, saturated, dead and duplicated units.
//!
//! Everything here works on plain slices (`batch x units`, row-major, or a weight `out x in`),
//! so that the [probe](super::Probe) can measure any framework's model.

/// Mean and (population) standard deviation, accumulated in f64.
///
/// One pass over 8 independent lanes of sums and sums of squares (so the compiler vectorizes
/// it: the monitor measures every weight of every layer), shifted by the first value so that
/// a mean large against the spread does not cancel: in f64 over f32 data the relative error of
/// the variance stays near `1e-16 · (shifted mean / std)²`.
pub(crate) fn mean_std(values: &[f32]) -> (f64, f64) {
    const LANES: usize = 8;
    let Some(&first) = values.first() else {
        return (0.0, 0.0);
    };
    let shift = f64::from(first);
    let (mut sums, mut squares) = ([0.0f64; LANES], [0.0f64; LANES]);
    let chunks = values.chunks_exact(LANES);
    let tail = chunks.remainder();
    for chunk in chunks {
        for ((sum, square), &v) in sums.iter_mut().zip(&mut squares).zip(chunk) {
            let d = f64::from(v) - shift;
            *sum += d;
            *square += d * d;
        }
    }
    let (mut sum, mut square) = (sums.iter().sum::<f64>(), squares.iter().sum::<f64>());
    for &v in tail {
        let d = f64::from(v) - shift;
        sum += d;
        square += d * d;
    }
    let n = values.len() as f64;
    let shifted_mean = sum / n;
    let variance = (square / n - shifted_mean * shifted_mean).max(0.0);
    (shift + shifted_mean, variance.sqrt())
}

/// The (population) standard deviation, in f64.
pub(crate) fn std(values: &[f32]) -> f64 {
    mean_std(values).1
}

/// `std(numerator) / scale`, or `None` when the data do not vary (`scale` = their std is 0: a
/// zero or constant weight has no scale to compare with).
///
/// Karpathy's gradient-to-data and update-to-data ratios: how large a step is relative to the
/// weights it moves (the update-to-data ratio should sit near 1e-3).
pub(crate) fn std_ratio(numerator: &[f32], scale: f64) -> Option<f32> {
    (scale > 0.0).then(|| (std(numerator) / scale) as f32)
}

/// Counts of values in equal-width bins over `[low, high]`: the histograms of Glorot & Bengio
/// (2010, Figures 6 and 7), one per layer.
///
/// ```
/// use nninit::Histogram;
/// let histogram = Histogram::new(&[0.0, 0.1, 0.9, 1.0], 0.0, 1.0, 2)?;
/// assert_eq!(histogram.counts, vec![2, 2]);
/// assert_eq!(histogram.bin_width(), 0.5);
/// # Ok::<(), nninit::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Histogram {
    /// The lower end of the first bin.
    pub low: f32,
    /// The upper end of the last bin (values equal to it fall in the last bin).
    pub high: f32,
    /// How many values fell in each bin.
    pub counts: Vec<u64>,
}

impl Histogram {
    /// The number of bins the diagnostics use.
    pub const BINS: usize = 40;

    /// The histogram of `values` over `bins` equal bins from `low` to `high`; values outside
    /// the range and non-finite values are not counted.
    ///
    /// # Errors
    /// `low` and `high` must be finite with `low < high`, and `bins > 0`.
    ///
    /// ```
    /// use nninit::Histogram;
    /// assert!(Histogram::new(&[1.0], 1.0, 1.0, 4).is_err());
    /// assert_eq!(Histogram::new(&[5.0, -0.5], -1.0, 1.0, 4)?.counts, vec![0, 1, 0, 0]);
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn new(values: &[f32], low: f32, high: f32, bins: usize) -> crate::Result<Histogram> {
        if bins == 0 {
            return Err(crate::Error::invalid("bins", "> 0", bins));
        }
        if !(low.is_finite() && high.is_finite() && low < high) {
            return Err(crate::Error::invalid(
                "histogram range",
                "finite with low < high",
                format!("[{low}, {high}]"),
            ));
        }
        let mut counts = vec![0u64; bins];
        let scale = bins as f64 / (f64::from(high) - f64::from(low));
        for &v in values {
            if v.is_finite() && (low..=high).contains(&v) {
                let bin = ((f64::from(v) - f64::from(low)) * scale) as usize;
                counts[bin.min(bins - 1)] += 1;
            }
        }
        Ok(Histogram { low, high, counts })
    }

    /// The histogram over the values' own range (their minimum to maximum, widened by ±0.5 if
    /// they are all equal, so that a constant shows as one spike), or over `bounds` when given
    /// (a bounded activation's asymptotes, so that layers share one axis as in Glorot & Bengio).
    pub(crate) fn of(values: &[f32], bounds: Option<(f32, f32)>) -> Histogram {
        let (low, high) = bounds
            .filter(|(low, high)| low.is_finite() && high.is_finite())
            .unwrap_or_else(|| finite_range(values));
        Histogram::new(values, low, high, Histogram::BINS)
            .expect("finite_range and finite bounds give a finite, non-empty range")
    }

    /// The width of one bin.
    ///
    /// ```
    /// assert_eq!(nninit::Histogram::new(&[], -1.0, 1.0, 4)?.bin_width(), 0.5);
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn bin_width(&self) -> f32 {
        (self.high - self.low) / self.counts.len().max(1) as f32
    }

    /// The number of values counted.
    ///
    /// ```
    /// assert_eq!(nninit::Histogram::new(&[0.0, 0.5, 9.0], 0.0, 1.0, 2)?.total(), 2);
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }
}

/// `[min, max]` of the finite values, widened to a non-empty finite range.
fn finite_range(values: &[f32]) -> (f32, f32) {
    let (min, max) = values
        .iter()
        .filter(|v| v.is_finite())
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    if !min.is_finite() {
        return (-0.5, 0.5);
    }
    // A range too narrow to split into bins in f32 (equal values, or neighbours) is widened.
    let width = f64::from(max) - f64::from(min);
    if width <= f64::from(max.abs().max(min.abs())) * 1e-6 || width == 0.0 {
        let middle = min / 2.0 + max / 2.0;
        let half = (middle.abs() * 1e-3).max(0.5);
        return (middle - half, middle + half);
    }
    (min, max)
}

/// How close to an asymptote counts as saturated: [`Report::SATURATION_MARGIN`] of the
/// largest finite asymptote's magnitude.
///
/// [`Report::SATURATION_MARGIN`]: super::Report::SATURATION_MARGIN
pub(crate) struct Saturation {
    low: f32,
    high: f32,
    margin: f32,
}

impl Saturation {
    /// The saturation test of an activation with asymptotes `bounds`, if it has any.
    pub(crate) fn new(bounds: Option<(f32, f32)>) -> Option<Saturation> {
        let (low, high) = bounds?;
        let scale = [low, high]
            .into_iter()
            .filter(|b| b.is_finite())
            .map(f32::abs)
            .fold(0.0, f32::max);
        let margin = super::Report::SATURATION_MARGIN * scale;
        Some(Saturation { low, high, margin })
    }

    /// Whether `value` is within the margin of an asymptote.
    pub(crate) fn is_saturated(&self, value: f32) -> bool {
        let near = |bound: f32| bound.is_finite() && (value - bound).abs() <= self.margin;
        near(self.low) || near(self.high)
    }
}

/// Fraction of `outputs` that are saturated (0 without asymptotes).
pub(crate) fn saturated_fraction(saturation: Option<&Saturation>, outputs: &[f32]) -> f32 {
    let Some(saturation) = saturation else {
        return 0.0;
    };
    let saturated = outputs
        .iter()
        .filter(|&&v| saturation.is_saturated(v))
        .count();
    saturated as f32 / outputs.len().max(1) as f32
}

/// Fraction of a rectifier layer's units that output zero for every sample.
pub(crate) fn dead_fraction(outputs: &[f32], units: usize) -> f32 {
    let batch = outputs.len() / units.max(1);
    let dead = (0..units)
        .filter(|&u| (0..batch).all(|s| outputs[s * units + u] == 0.0))
        .count();
    dead as f32 / units.max(1) as f32
}

/// What a layer's units look like, for finding duplicates.
pub(crate) struct UnitsView<'a> {
    /// `units x inputs`.
    pub(crate) weight: &'a [f32],
    /// `units`, if the layer has a bias.
    pub(crate) bias: Option<&'a [f32]>,
    /// `batch x units`.
    pub(crate) outputs: &'a [f32],
    pub(crate) inputs: usize,
    pub(crate) units: usize,
}

/// Number of units that duplicate another: identical weight rows and bias, or identical
/// output columns that vary over the batch and are not saturated on every sample (units pinned
/// at an asymptote agree because they are saturated, not because they are symmetric).
pub(crate) fn symmetric_units(view: &UnitsView<'_>, saturation: Option<&Saturation>) -> usize {
    let UnitsView {
        weight,
        bias,
        outputs,
        inputs,
        units,
    } = *view;
    let batch = outputs.len() / units.max(1);
    // `+ 0.0` maps -0.0 to 0.0, so equal values have equal bits.
    let bits = |v: f32| (v + 0.0).to_bits();
    let column = |u: usize| (0..batch).map(move |s| outputs[s * units + u]);
    let by_outputs: Vec<Vec<u32>> = (0..units).map(|u| column(u).map(bits).collect()).collect();
    let informative = |u: usize| {
        let varies = by_outputs[u].iter().any(|&b| b != by_outputs[u][0]);
        let pinned = saturation.is_some_and(|s| column(u).all(|v| s.is_saturated(v)));
        varies && !pinned
    };
    // A unit's incoming weights and bias, compared in place (no copy of the weight).
    let row_key = |u: usize| {
        let row = weight[u * inputs..(u + 1) * inputs].iter();
        row.chain(bias.map(|b| &b[u])).map(|&v| bits(v))
    };
    let mut duplicated = vec![false; units];
    let mut order: Vec<usize> = (0..units).collect();
    order.sort_by(|&a, &b| row_key(a).cmp(row_key(b)));
    for pair in order.windows(2) {
        if row_key(pair[0]).eq(row_key(pair[1])) {
            duplicated[pair[0]] = true;
            duplicated[pair[1]] = true;
        }
    }
    mark_duplicates(&by_outputs, informative, &mut duplicated);
    duplicated.iter().filter(|&&d| d).count()
}

/// Marks every key (among those passing `eligible`) that equals another.
fn mark_duplicates(keys: &[Vec<u32>], eligible: impl Fn(usize) -> bool, marks: &mut [bool]) {
    let mut order: Vec<usize> = (0..keys.len()).filter(|&i| eligible(i)).collect();
    order.sort_by(|&a, &b| keys[a].cmp(&keys[b]));
    for pair in order.windows(2) {
        if keys[pair[0]] == keys[pair[1]] {
            marks[pair[0]] = true;
            marks[pair[1]] = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_of_hand_computed_stds() {
        // std([1, 3]) = 1, std([10, 30]) = 10: ratio 0.1; a constant has no scale.
        assert_eq!(std_ratio(&[1.0, 3.0], std(&[10.0, 30.0])), Some(0.1));
        assert_eq!(std_ratio(&[1.0, 3.0], std(&[2.0, 2.0])), None);
        // The shifted single pass: mean 1e6 + 0.5, std 0.5, without cancellation.
        let (mean, spread) = mean_std(&[1e6, 1e6 + 1.0, 1e6, 1e6 + 1.0]);
        assert_eq!((mean, spread), (1e6 + 0.5, 0.5));
    }

    #[test]
    fn constant_values_make_one_spike() {
        let histogram = Histogram::of(&[0.0; 5], None);
        assert_eq!((histogram.low, histogram.high), (-0.5, 0.5));
        assert_eq!(histogram.total(), 5);
        assert_eq!(histogram.counts[Histogram::BINS / 2], 5);
        let large = Histogram::of(&[1e30; 3], None);
        assert!(large.low < 1e30 && large.high > 1e30 && large.total() == 3);
    }

    #[test]
    fn saturated_columns_are_not_symmetric() {
        // Two tanh units pinned at ±1 with the same sign pattern, distinct weights.
        let outputs = [1.0, 1.0, -1.0, -1.0, 1.0, 1.0];
        let view = UnitsView {
            weight: &[1e9, 2e9],
            bias: None,
            outputs: &outputs,
            inputs: 1,
            units: 2,
        };
        let tanh = Saturation::new(Some((-1.0, 1.0)));
        assert_eq!(symmetric_units(&view, tanh.as_ref()), 0);
        assert_eq!(symmetric_units(&view, None), 2);
    }
}
