//! Small 2-D classification datasets, generated from a seeded `Xoshiro256PlusPlus` so every
//! run (and every test) sees the same points.

use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, StandardNormal};

/// A classification dataset: `x` is `len x features` row-major; `y` holds one value per
/// sample: the label 0.0 / 1.0 for binary problems, the class index for more classes.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// A short name for tables and plot titles.
    pub name: &'static str,
    /// Features, row-major.
    pub x: Vec<f32>,
    /// One label per sample.
    pub y: Vec<f32>,
    /// Features per sample.
    pub features: usize,
    /// Number of classes (2 for the binary datasets).
    pub classes: usize,
}

impl Dataset {
    /// Number of samples.
    pub fn len(&self) -> usize {
        self.y.len()
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    /// The fraction of samples labelled 1 (for binary datasets).
    pub fn positive_fraction(&self) -> f32 {
        self.y.iter().filter(|&&y| y == 1.0).count() as f32 / self.len() as f32
    }

    fn push(&mut self, x0: f64, x1: f64, label: usize) {
        self.x.push(x0 as f32);
        self.x.push(x1 as f32);
        self.y.push(label as f32);
    }

    fn empty(name: &'static str, classes: usize, capacity: usize) -> Dataset {
        Dataset {
            name,
            x: Vec::with_capacity(2 * capacity),
            y: Vec::with_capacity(capacity),
            features: 2,
            classes,
        }
    }
}

/// `n` evenly spaced values from `start` to `end` inclusive, like `numpy.linspace`.
fn linspace(start: f64, end: f64, n: usize) -> impl Iterator<Item = f64> {
    let step = if n > 1 {
        (end - start) / (n - 1) as f64
    } else {
        0.0
    };
    (0..n).map(move |i| start + step * i as f64)
}

fn gaussian(rng: &mut Xoshiro256PlusPlus) -> f64 {
    StandardNormal.sample(rng)
}

/// The "flower" of the Coursera planar-data assignment (`load_planar_dataset`): two classes
/// of `per_class` points on the petals of the rose `r = 4 sin(4t)`, with noise 0.2 on both
/// the angle and the radius. 400 points for `per_class = 200`; no line separates them.
pub fn flower(per_class: usize, seed: u64) -> Dataset {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut data = Dataset::empty("flower", 2, 2 * per_class);
    for label in 0..2 {
        let start = label as f64 * 3.12;
        for t in linspace(start, start + 3.12, per_class) {
            let theta = t + 0.2 * gaussian(&mut rng);
            let radius = 4.0 * (4.0 * theta).sin() + 0.2 * gaussian(&mut rng);
            data.push(radius * theta.sin(), radius * theta.cos(), label);
        }
    }
    data
}

/// Two concentric circles like scikit-learn's `make_circles(n, noise, factor=0.8)`: the outer
/// circle (radius 1) is class 0, the inner one (radius 0.8) class 1, plus N(0, noise²) on both
/// coordinates.
pub fn circles(n: usize, noise: f64, seed: u64) -> Dataset {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut data = Dataset::empty("circles", 2, n);
    let outer = n / 2;
    for (label, count, radius) in [(0, outer, 1.0), (1, n - outer, 0.8)] {
        for i in 0..count {
            let angle = std::f64::consts::TAU * i as f64 / count as f64;
            let x0 = radius * angle.cos() + noise * gaussian(&mut rng);
            let x1 = radius * angle.sin() + noise * gaussian(&mut rng);
            data.push(x0, x1, label);
        }
    }
    data
}

/// The spiral of Stanford's CS231n notes: `classes` arms of `per_class` points each, with
/// noise 0.2 on the angle. Needs a hidden layer to be separated.
pub fn spiral(per_class: usize, classes: usize, seed: u64) -> Dataset {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut data = Dataset::empty("spiral", classes, per_class * classes);
    for label in 0..classes {
        let start = label as f64 * 4.0;
        for (radius, t) in
            linspace(0.0, 1.0, per_class).zip(linspace(start, start + 4.0, per_class))
        {
            let theta = t + 0.2 * gaussian(&mut rng);
            data.push(radius * theta.sin(), radius * theta.cos(), label);
        }
    }
    data
}

/// XOR: `n` points uniform in `[-1, 1]²`, labelled 1 where the two coordinates have opposite
/// signs; the quadrants take turns, so the two classes are balanced. The classic problem no
/// single layer can solve.
pub fn xor(n: usize, seed: u64) -> Dataset {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut data = Dataset::empty("xor", 2, n);
    for i in 0..n {
        let (sign0, sign1) = [(1.0, 1.0), (1.0, -1.0), (-1.0, -1.0), (-1.0, 1.0)][i % 4];
        let x0: f64 = sign0 * rng.random_range(0.0..1.0);
        let x1: f64 = sign1 * rng.random_range(0.0..1.0);
        data.push(x0, x1, usize::from(sign0 != sign1));
    }
    data
}
