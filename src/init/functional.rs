//! PyTorch-style free functions (`xavier_uniform(&mut layer, fan_in, fan_out)`), the
//! thread-local generator behind them, and [`manual_seed`].
//!
//! Each function is one line of sugar over an [`Initializer`]: it takes the weights first, then
//! `fan_in, fan_out` where the distribution needs them, then the distribution's own
//! parameters. The plain form fills with `fill_seeded` from a seed drawn from the thread-local
//! generator; the `_with` form fills with `fill` from the caller's generator.
//!
//! Where fans are given, the buffer's length must belong to them: `fan_in * fan_out / r` for a
//! receptive field `r` dividing both (`r = 1` for a dense `[out, in]` weight, `k1 · k2` for a
//! conv kernel `[out, in, k1, k2]`); an empty buffer is a no-op; any other length is an error
//! naming the length and the fans, and the weights are left untouched. A `Dense` layer also
//! refuses fans other than its own, and records the initializer that filled it. (To derive the
//! fans from a shape instead, see [`Initializer::fill_shape`].)

use std::cell::Cell;
use std::convert::Infallible;

use rand::{Rng, TryRng};

use super::DeltaOrthogonal;
use super::element::Element;
use super::philox::Philox;
use super::{
    Constant, GlorotNormal, GlorotUniform, HeNormal, HeUniform, Initializer, InitializerFamily,
    LecunNormal, LecunUniform, Normal, Ones, Orthogonal, Sparse, TruncatedNormal, Uniform, Zeros,
    check_length_fits,
};
use crate::error::{Error, Result};
use crate::fans::Fans;

/// Something that holds a weight tensor the free functions can fill: `Vec<T>`, `[T]`,
/// `[T; N]` (for `T` = `f32` or `f64`), a network's `Dense` layer (its weight matrix), a
/// mutable reference to any of them, and, with the `ndarray` feature, ndarray arrays in
/// standard layout.
///
/// ```
/// use nninit::Weights;
/// let mut v = vec![0.0f32; 3];
/// assert_eq!(v.weights_mut()?.len(), 3);
/// // A `&mut [f32]` can be passed as is, or borrowed again.
/// nninit::xavier_uniform(v.as_mut_slice(), 3, 1)?;
/// nninit::xavier_uniform(&mut v.as_mut_slice(), 3, 1)?;
/// # Ok::<(), nninit::Error>(())
/// ```
pub trait Weights {
    /// The element type.
    type Element: Element;

    /// The weights as one row-major slice.
    ///
    /// An error when the holder cannot give one, e.g. an ndarray view that is not contiguous
    /// in standard (row-major) order: filling its memory in storage order would put the values
    /// in the wrong places.
    fn weights_mut(&mut self) -> Result<&mut [Self::Element]>;

    /// The fans of a holder that knows its own shape (a `Dense` layer: `in_features`,
    /// `out_features`); `None` (the default) for plain buffers. The free functions refuse fans
    /// that differ from these.
    ///
    /// ```
    /// use nninit::{Dense, Fans, Relu, Weights};
    /// assert_eq!(vec![0.0f32; 6].fans(), None);
    /// assert_eq!(Dense::new(3, 2, Relu)?.fans(), Some(Fans::new(3, 2)));
    /// # Ok::<(), nninit::Error>(())
    /// ```
    fn fans(&self) -> Option<Fans> {
        None
    }

    /// Called by the free functions after they filled the weights, with the name and family of
    /// the initializer they used; a holder that records what initialized it (a `Dense` layer,
    /// for the diagnostics) overrides it. The default does nothing.
    ///
    /// ```
    /// use nninit::{Dense, InitializerFamily, Relu};
    /// let mut layer = Dense::new(4, 3, Relu)?;
    /// nninit::kaiming_normal(&mut layer, 4, 3)?;
    /// assert_eq!(layer.initializer(), "HeNormal");
    /// assert_eq!(layer.initializer_family(), InitializerFamily::He);
    /// # Ok::<(), nninit::Error>(())
    /// ```
    fn initialized_by(&mut self, name: &'static str, family: InitializerFamily) {
        let _ = (name, family);
    }
}

impl<T: Element> Weights for Vec<T> {
    type Element = T;
    fn weights_mut(&mut self) -> Result<&mut [T]> {
        Ok(self)
    }
}

impl<T: Element> Weights for [T] {
    type Element = T;
    fn weights_mut(&mut self) -> Result<&mut [T]> {
        Ok(self)
    }
}

impl<T: Element, const N: usize> Weights for [T; N] {
    type Element = T;
    fn weights_mut(&mut self) -> Result<&mut [T]> {
        Ok(self)
    }
}

impl<W: Weights + ?Sized> Weights for &mut W {
    type Element = W::Element;
    fn weights_mut(&mut self) -> Result<&mut [W::Element]> {
        (**self).weights_mut()
    }
    fn fans(&self) -> Option<Fans> {
        (**self).fans()
    }
    fn initialized_by(&mut self, name: &'static str, family: InitializerFamily) {
        (**self).initialized_by(name, family)
    }
}

thread_local! {
    /// `(seed, calls)`: the n-th convenience call on this thread uses the stream seed
    /// `mix(seed, n)`.
    static GENERATOR: Cell<(u64, u64)> = Cell::new((entropy(), 0));
}

fn entropy() -> u64 {
    rand::rng().next_u64()
}

/// Seeds this thread's generator for the convenience functions, like `torch.manual_seed`:
/// after `manual_seed(s)`, the same sequence of calls gives the same weights.
///
/// ```
/// let mut a = vec![0.0f32; 8];
/// let mut b = vec![0.0f32; 8];
/// nninit::manual_seed(42);
/// nninit::xavier_uniform(&mut a, 4, 2)?;
/// nninit::manual_seed(42);
/// nninit::xavier_uniform(&mut b, 4, 2)?;
/// assert_eq!(a, b);
/// # Ok::<(), nninit::Error>(())
/// ```
pub fn manual_seed(seed: u64) {
    GENERATOR.with(|generator| generator.set((seed, 0)));
}

/// The stream seed for the next convenience call on this thread.
fn next_seed() -> u64 {
    GENERATOR.with(|generator| {
        let (seed, calls) = generator.get();
        generator.set((seed, calls.wrapping_add(1)));
        let words = Philox::new(seed).block(calls);
        (u64::from(words[1]) << 32) | u64::from(words[0])
    })
}

/// Adapts any `R: Rng + ?Sized` (including `dyn Rng`) to a sized generator that coerces to
/// `&mut dyn Rng`.
struct Borrowed<'a, R: ?Sized>(&'a mut R);

impl<R: Rng + ?Sized> TryRng for Borrowed<'_, R> {
    type Error = Infallible;
    fn try_next_u32(&mut self) -> std::result::Result<u32, Infallible> {
        Ok(self.0.next_u32())
    }
    fn try_next_u64(&mut self) -> std::result::Result<u64, Infallible> {
        Ok(self.0.next_u64())
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> std::result::Result<(), Infallible> {
        self.0.fill_bytes(dst);
        Ok(())
    }
}

/// The fans a free function was called with.
#[derive(Clone, Copy)]
enum FansArgument {
    /// The distribution ignores fans (`zeros`, `uniform`, ...).
    Ignored,
    /// `fan_in, fan_out` as the caller gave them: the buffer must fit them.
    Given(Fans),
}

/// The fans to fill with, after checking the caller's against the layer: its own fans if it
/// knows them, and a length that a tensor with these fans can have. Nothing is written on
/// error.
fn checked_fans<W: Weights + ?Sized>(layer: &mut W, fans: FansArgument) -> Result<Fans> {
    let FansArgument::Given(fans) = fans else {
        // Fans for distributions that ignore them.
        return Ok(Fans::new(1, 1));
    };
    if let Some(own) = layer.fans()
        && own != fans
    {
        return Err(Error::invalid(
            "fans",
            format!(
                "the layer's own (fan_in {}, fan_out {})",
                own.fan_in, own.fan_out
            ),
            format!("fan_in {}, fan_out {}", fans.fan_in, fans.fan_out),
        ));
    }
    // Validates the fans too, except for an empty buffer: a no-op, as in PyTorch.
    check_length_fits(layer.weights_mut()?.len(), fans)?;
    Ok(fans)
}

fn seeded<W, I>(layer: &mut W, init: I, fans: FansArgument) -> Result<()>
where
    W: Weights + ?Sized,
    I: Initializer<W::Element>,
{
    let fans = checked_fans(layer, fans)?;
    init.fill_seeded(layer.weights_mut()?, fans, next_seed())?;
    layer.initialized_by(init.name(), init.family());
    Ok(())
}

fn with_rng<W, I, R>(layer: &mut W, init: I, fans: FansArgument, rng: &mut R) -> Result<()>
where
    W: Weights + ?Sized,
    I: Initializer<W::Element>,
    R: Rng + ?Sized,
{
    let fans = checked_fans(layer, fans)?;
    init.fill(layer.weights_mut()?, fans, &mut Borrowed(rng))?;
    layer.initialized_by(init.name(), init.family());
    Ok(())
}

/// Fans for distributions that ignore them.
const NO_FANS: FansArgument = FansArgument::Ignored;

/// Defines `name(layer, params...)` and `name_with(layer, params..., rng)`.
macro_rules! convenience {
    (
        $(#[doc = $doc:literal])*
        $name:ident, $name_with:ident, ($($param:ident: $ty:ty),*), $fans:expr, $init:expr,
        $example:literal
    ) => {
        $(#[doc = $doc])*
        ///
        /// Draws from the thread-local generator (see [`manual_seed`]).
        ///
        /// ```
        #[doc = $example]
        /// # Ok::<(), nninit::Error>(())
        /// ```
        pub fn $name<W: Weights + ?Sized>(layer: &mut W, $($param: $ty),*) -> Result<()> {
            seeded(layer, $init, $fans)
        }

        $(#[doc = $doc])*
        ///
        /// Draws from `rng`.
        ///
        /// ```
        /// use rand::SeedableRng;
        /// let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(1);
        /// let mut w = vec![0.0f64; 12];
        #[doc = concat!("nninit::", stringify!($name_with), "(&mut w, ",
            $(convenience!(@example $param), ", ",)* "&mut rng)?;")]
        /// assert!(w.iter().all(|x| x.is_finite()));
        /// # Ok::<(), nninit::Error>(())
        /// ```
        pub fn $name_with<W, R>(layer: &mut W, $($param: $ty,)* rng: &mut R) -> Result<()>
        where
            W: Weights + ?Sized,
            R: Rng + ?Sized,
        {
            with_rng(layer, $init, $fans, rng)
        }
    };
    (@example fan_in) => { "4" };
    (@example fan_out) => { "3" };
    (@example value) => { "0.5" };
    (@example low) => { "-0.1" };
    (@example high) => { "0.1" };
    (@example mean) => { "0.0" };
    (@example std) => { "0.02" };
    (@example a) => { "-0.04" };
    (@example b) => { "0.04" };
    (@example sparsity) => { "0.5" };
}

convenience!(
    /// Fills with zeros (PyTorch `zeros_`).
    zeros, zeros_with, (), NO_FANS, Zeros,
    "let mut w = vec![1.0f32; 3];\nnninit::zeros(&mut w)?;\nassert_eq!(w, [0.0; 3]);"
);
convenience!(
    /// Fills with ones (PyTorch `ones_`).
    ones, ones_with, (), NO_FANS, Ones,
    "let mut w = [0.0f64; 2];\nnninit::ones(&mut w)?;\nassert_eq!(w, [1.0; 2]);"
);
convenience!(
    /// Fills with `value` (PyTorch `constant_`).
    constant, constant_with, (value: impl Into<f64>), NO_FANS, Constant::new(value),
    "let mut w = vec![0.0f32; 2];\nnninit::constant(&mut w, 0.1)?;\nassert_eq!(w, [0.1; 2]);"
);
convenience!(
    /// Fills from `U(low, high)` (PyTorch `uniform_`).
    uniform, uniform_with, (low: impl Into<f64>, high: impl Into<f64>), NO_FANS, Uniform::new(low, high),
    "let mut w = vec![0.0f32; 100];\nnninit::uniform(&mut w, -0.05, 0.05)?;\nassert!(w.iter().all(|x| x.abs() <= 0.05));"
);
convenience!(
    /// Fills from `N(mean, std²)` (PyTorch `normal_`).
    normal, normal_with, (mean: impl Into<f64>, std: impl Into<f64>), NO_FANS, Normal::new(mean, std),
    "let mut w = vec![0.0f32; 100];\nnninit::normal(&mut w, 0.0, 0.01)?;\nassert!(w.iter().all(|x| x.abs() < 0.1));"
);
convenience!(
    /// Fills from `N(mean, std²)` truncated to `[a, b]` (PyTorch `trunc_normal_`).
    trunc_normal, trunc_normal_with, (mean: impl Into<f64>, std: impl Into<f64>, a: impl Into<f64>, b: impl Into<f64>), NO_FANS,
    TruncatedNormal::new(mean, std, a, b),
    "let mut w = vec![0.0f32; 100];\nnninit::trunc_normal(&mut w, 0.0, 1.0, -2.0, 2.0)?;\nassert!(w.iter().all(|x| x.abs() <= 2.0));"
);
convenience!(
    /// Glorot uniform with gain 1 (PyTorch `xavier_uniform_`): `U(±sqrt(6 / (fan_in + fan_out)))`.
    xavier_uniform, xavier_uniform_with, (fan_in: usize, fan_out: usize),
    FansArgument::Given(Fans::new(fan_in, fan_out)), GlorotUniform::new(),
    "let mut layer = vec![0.0f32; 784 * 256];\nnninit::xavier_uniform(&mut layer, 784, 256)?;\nassert!(layer.iter().all(|x| x.abs() <= (6.0f32 / 1040.0).sqrt()));"
);
convenience!(
    /// Glorot normal with gain 1 (PyTorch `xavier_normal_`): `N(0, 2 / (fan_in + fan_out))`.
    xavier_normal, xavier_normal_with, (fan_in: usize, fan_out: usize),
    FansArgument::Given(Fans::new(fan_in, fan_out)), GlorotNormal::new(),
    "let mut w = vec![0.0f64; 64];\nnninit::xavier_normal(&mut w, 8, 8)?;\nassert!(w.iter().any(|&x| x != 0.0));"
);
convenience!(
    /// He uniform, fan-in, ReLU (PyTorch `kaiming_uniform_` with `nonlinearity='relu'`):
    /// `U(±sqrt(6 / fan_in))`.
    kaiming_uniform, kaiming_uniform_with, (fan_in: usize, fan_out: usize),
    FansArgument::Given(Fans::new(fan_in, fan_out)), HeUniform::new(),
    "let mut w = vec![0.0f32; 6 * 10];\nnninit::kaiming_uniform(&mut w, 6, 10)?;\nassert!(w.iter().all(|x| x.abs() <= 1.0));"
);
convenience!(
    /// He normal, fan-in, ReLU (PyTorch `kaiming_normal_` with `nonlinearity='relu'`):
    /// `N(0, 2 / fan_in)`.
    kaiming_normal, kaiming_normal_with, (fan_in: usize, fan_out: usize),
    FansArgument::Given(Fans::new(fan_in, fan_out)), HeNormal::new(),
    "let mut w = vec![0.0f32; 32 * 16];\nnninit::kaiming_normal(&mut w, 32, 16)?;\nassert!(w.iter().any(|&x| x != 0.0));"
);
convenience!(
    /// LeCun uniform: `U(±sqrt(3 / fan_in))`.
    lecun_uniform, lecun_uniform_with, (fan_in: usize, fan_out: usize),
    FansArgument::Given(Fans::new(fan_in, fan_out)), LecunUniform,
    "let mut w = vec![0.0f32; 30];\nnninit::lecun_uniform(&mut w, 3, 10)?;\nassert!(w.iter().all(|x| x.abs() <= 1.0));"
);
convenience!(
    /// LeCun normal: variance `1 / fan_in`, truncated at ±2σ as Keras and JAX draw it.
    lecun_normal, lecun_normal_with, (fan_in: usize, fan_out: usize),
    FansArgument::Given(Fans::new(fan_in, fan_out)), LecunNormal,
    "let mut w = vec![0.0f32; 40];\nnninit::lecun_normal(&mut w, 4, 10)?;\nassert!(w.iter().all(|x| x.abs() <= 2.0 * 0.5 / 0.8796 + 1e-6));"
);
convenience!(
    /// A (semi-)orthogonal `fan_out x fan_in` matrix with gain 1 (PyTorch `orthogonal_`).
    orthogonal, orthogonal_with, (fan_in: usize, fan_out: usize),
    FansArgument::Given(Fans::new(fan_in, fan_out)), Orthogonal::new(),
    "let mut w = vec![0.0f64; 4 * 3];\nnninit::orthogonal(&mut w, 4, 3)?;\nlet row: f64 = w[..4].iter().map(|x| x * x).sum();\nassert!((row - 1.0).abs() < 1e-12);"
);
convenience!(
    /// Martens' sparse initialization as PyTorch's `sparse_(w, sparsity, std)` on the
    /// `[fan_out, fan_in]` weight: `N(0, std²)` with `ceil(sparsity · fan_out)` zeros in each
    /// column (see [`Sparse`]).
    sparse, sparse_with, (fan_in: usize, fan_out: usize, sparsity: impl Into<f64>, std: impl Into<f64>),
    FansArgument::Given(Fans::new(fan_in, fan_out)), Sparse::new(sparsity, std),
    "let mut w = vec![0.0f32; 10 * 4];\nnninit::sparse(&mut w, 4, 10, 0.5, 0.01)?;\nassert_eq!(w.iter().filter(|&&x| x == 0.0).count(), 4 * 5);"
);

/// The fans and the kernel size of a PyTorch-layout kernel `[out, in, k...]`.
fn kernel_fans(shape: &[usize]) -> Result<(Fans, &[usize])> {
    Ok((Fans::from_shape(shape)?, shape.get(2..).unwrap_or_default()))
}

/// JAX's `delta_orthogonal` (gain 1) on a convolution kernel of PyTorch shape
/// `shape = [out, in, k1, (k2, (k3))]`: zeros except an orthogonal `out x in` matrix at the
/// spatial centre (see [`DeltaOrthogonal`]).
///
/// Draws from the thread-local generator (see [`manual_seed`]).
///
/// ```
/// let mut w = vec![0.0f32; 8 * 8 * 3];
/// nninit::delta_orthogonal(&mut w, &[8, 8, 3])?;
/// assert_eq!(w.iter().filter(|&&x| x != 0.0).count(), 64); // the full centre matrix
/// assert!(nninit::delta_orthogonal(&mut w, &[4, 16, 3]).is_err()); // in > out, as in JAX
/// # Ok::<(), nninit::Error>(())
/// ```
pub fn delta_orthogonal<W: Weights + ?Sized>(layer: &mut W, shape: &[usize]) -> Result<()> {
    let (fans, kernel_size) = kernel_fans(shape)?;
    seeded(
        layer,
        DeltaOrthogonal::new(kernel_size),
        FansArgument::Given(fans),
    )
}

/// [`delta_orthogonal`], drawing from `rng`.
///
/// ```
/// use rand::SeedableRng;
/// let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(1);
/// let mut w = vec![0.0f64; 4 * 2 * 3 * 3];
/// nninit::delta_orthogonal_with(&mut w, &[4, 2, 3, 3], &mut rng)?;
/// assert_eq!(w.iter().filter(|&&x| x != 0.0).count(), 8);
/// # Ok::<(), nninit::Error>(())
/// ```
pub fn delta_orthogonal_with<W, R>(layer: &mut W, shape: &[usize], rng: &mut R) -> Result<()>
where
    W: Weights + ?Sized,
    R: Rng + ?Sized,
{
    let (fans, kernel_size) = kernel_fans(shape)?;
    with_rng(
        layer,
        DeltaOrthogonal::new(kernel_size),
        FansArgument::Given(fans),
        rng,
    )
}
