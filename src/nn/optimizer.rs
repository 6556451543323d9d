//! Optimizers: the `Optimizer` trait, `Sgd` (with momentum, Nesterov, weight decay) and `Adam`
//! (with L2 or decoupled AdamW weight decay), following PyTorch's update rules.

use std::fmt::Debug;

use std::sync::atomic::{AtomicBool, Ordering};

use crate::dispatch::{Isa, compiled_for};
use crate::error::{Error, Result};

/// One parameter tensor and its gradient, handed to [`Optimizer::step`].
#[derive(Debug)]
pub struct Parameter<'a> {
    /// The values, updated in place.
    pub values: &'a mut [f32],
    /// The gradient of the loss with respect to `values` (same length).
    pub gradient: &'a [f32],
}

/// Updates parameters from their gradients, one step at a time.
///
/// Object-safe: [`Network::train_step`](crate::Network::train_step) takes
/// `&mut dyn Optimizer`. An optimizer keeps per-parameter state (momentum buffers, moments)
/// indexed by the parameter's position in the slice, so one optimizer serves one network; a
/// slice whose count or lengths differ from the first step's is an error.
///
/// ```
/// use nninit::{Optimizer, Parameter, Sgd};
/// let mut values = [1.0f32, 2.0];
/// let mut sgd = Sgd::new(0.1);
/// sgd.step(&mut [Parameter { values: &mut values, gradient: &[1.0, -1.0] }])?;
/// assert_eq!(values, [0.9, 2.1]);
/// # Ok::<(), nninit::Error>(())
/// ```
pub trait Optimizer: Debug + Send {
    /// A short lowercase name, e.g. `"sgd"`.
    fn name(&self) -> &str;

    /// Applies one update to every parameter.
    ///
    /// An update that would make any parameter or any of the optimizer's state non-finite
    /// must return [`Error::NonFinite`] and change nothing; [`Sgd`] and [`Adam`] compute every
    /// new value first and write only if all are finite. (For an implementation that does not,
    /// [`Network::train_step`](crate::Network::train_step) still reports the non-finite
    /// parameters, but cannot restore them.)
    fn step(&mut self, parameters: &mut [Parameter<'_>]) -> Result<()>;

    /// [`step`](Optimizer::step), naming parameter `i` as `names(i)` in errors (the network
    /// passes e.g. `"layer 1 weight at step 7"`). The default ignores the names.
    ///
    /// ```
    /// use nninit::{Optimizer, Parameter, Sgd};
    /// let mut values = [1.0f32];
    /// let err = Sgd::new(f32::MAX)
    ///     .step_named(&mut [Parameter { values: &mut values, gradient: &[1e10] }], &|i| format!("w{i}"))
    ///     .unwrap_err();
    /// assert_eq!(err.to_string(), "w0, element 0, after the update is not finite (-inf)");
    /// assert_eq!(values, [1.0]); // unchanged
    /// ```
    fn step_named(
        &mut self,
        parameters: &mut [Parameter<'_>],
        names: &dyn Fn(usize) -> String,
    ) -> Result<()> {
        let _ = names;
        self.step(parameters)
    }

    /// The current learning rate.
    fn learning_rate(&self) -> f32;

    /// Changes the learning rate (for schedules); the state is kept.
    fn set_learning_rate(&mut self, learning_rate: f32);

    /// Forgets all state (momentum buffers, moments, the step count).
    fn reset(&mut self);

    /// How the update scales with the gradient, which decides the muP learning-rate
    /// multipliers (see [`NetworkBuilder::mup`](crate::NetworkBuilder::mup)). `Other` unless
    /// an implementation says more.
    ///
    /// ```
    /// use nninit::{Adam, Optimizer, OptimizerFamily, Sgd};
    /// assert_eq!(Sgd::new(0.1).family(), OptimizerFamily::SgdLike);
    /// assert_eq!(Adam::new(0.1).family(), OptimizerFamily::AdamLike);
    /// ```
    fn family(&self) -> OptimizerFamily {
        OptimizerFamily::Other
    }

    /// Whether every step checks each new value before it writes, and so never leaves a
    /// non-finite parameter or state behind ([`Sgd`] and [`Adam`] do). The network then skips
    /// its own pass over the parameters after the step, which otherwise catches an optimizer
    /// that wrote a non-finite value. `false` unless an implementation says so.
    ///
    /// ```
    /// use nninit::{Adam, Optimizer, Sgd};
    /// assert!(Sgd::new(0.1).checks_before_writing() && Adam::new(0.1).checks_before_writing());
    /// ```
    fn checks_before_writing(&self) -> bool {
        false
    }

    /// [`step_named`](Optimizer::step_named) with parameter `i`'s learning rate multiplied by
    /// `learning_rate_scales[i]` and its weight decay divided by it (so `lr · weight_decay` is
    /// unchanged), as `microsoft/mup`'s `MuSGD` and `MuAdam` scale their parameter groups.
    ///
    /// The default accepts only scales that are all 1 (then it is `step_named`); [`Sgd`] and
    /// [`Adam`] accept any positive finite scales. A scale of exactly 1 leaves that
    /// parameter's update bit-identical to [`step`](Optimizer::step)'s.
    ///
    /// ```
    /// use nninit::{Optimizer, Parameter, Sgd};
    /// let (mut a, mut b) = ([1.0f32], [1.0f32]);
    /// let mut sgd = Sgd::new(0.1);
    /// sgd.step_scaled(
    ///     &mut [Parameter { values: &mut a, gradient: &[1.0] }, Parameter { values: &mut b, gradient: &[1.0] }],
    ///     &[1.0, 0.5],
    ///     &|i| format!("w{i}"),
    /// )?;
    /// assert_eq!((a[0], b[0]), (0.9, 0.95));
    /// # Ok::<(), nninit::Error>(())
    /// ```
    fn step_scaled(
        &mut self,
        parameters: &mut [Parameter<'_>],
        learning_rate_scales: &[f32],
        names: &dyn Fn(usize) -> String,
    ) -> Result<()> {
        check_scales(parameters, learning_rate_scales)?;
        if let Some(&scale) = learning_rate_scales.iter().find(|&&s| s != 1.0) {
            return Err(Error::invalid(
                "learning_rate_scales",
                format!(
                    "all 1 for optimizer '{}', which does not implement step_scaled",
                    self.name()
                ),
                scale,
            ));
        }
        self.step_named(parameters, names)
    }
}

/// How an optimizer's update scales with the gradient: what muP's learning-rate rule
/// depends on (Yang et al. 2022, Table 3: SGD-like and Adam-like optimizers get different
/// multipliers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OptimizerFamily {
    /// The update is linear in the gradient ([`Sgd`], with or without momentum).
    SgdLike,
    /// The update normalizes the gradient entrywise ([`Adam`], AdamW, RMSProp, Adagrad).
    AdamLike,
    /// Anything else, e.g. a user's own optimizer.
    Other,
}

/// Stochastic gradient descent with PyTorch's `torch.optim.SGD` semantics.
///
/// With `g = gradient + weight_decay · p`, momentum `μ` and dampening `τ`:
/// `b ← g` on the first step, then `b ← μ b + (1 − τ) g`; the update direction is
/// `g + μ b` with Nesterov, `b` without; `p ← p − lr · direction`. Without momentum the
/// direction is `g`.
///
/// ```
/// use nninit::{Optimizer, Parameter, Sgd};
/// let mut sgd = Sgd::new(0.5).momentum(0.9);
/// let mut p = [0.0f32];
/// sgd.step(&mut [Parameter { values: &mut p, gradient: &[1.0] }])?; // b = 1
/// sgd.step(&mut [Parameter { values: &mut p, gradient: &[1.0] }])?; // b = 1.9
/// assert!((p[0] - -(0.5 + 0.95)).abs() < 1e-6);
/// # Ok::<(), nninit::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Sgd {
    learning_rate: f32,
    momentum: f32,
    dampening: f32,
    nesterov: bool,
    weight_decay: f32,
    buffers: Vec<Vec<f32>>,
}

impl Sgd {
    /// Plain SGD with learning rate `learning_rate`.
    ///
    /// Every hyperparameter must be finite and `>= 0`, and Nesterov needs momentum, as PyTorch
    /// checks at construction. The setters stay infallible: [`Sgd::try_new`] and
    /// [`Sgd::checked`] refuse bad values when the optimizer is built, and every step checks
    /// them again ([`Error::InvalidArgument`], nothing changed).
    ///
    /// ```
    /// use nninit::Optimizer;
    /// assert_eq!(nninit::Sgd::new(0.1).learning_rate(), 0.1);
    /// ```
    pub fn new(learning_rate: f32) -> Sgd {
        Sgd {
            learning_rate,
            momentum: 0.0,
            dampening: 0.0,
            nesterov: false,
            weight_decay: 0.0,
            buffers: Vec::new(),
        }
    }

    /// Plain SGD, refusing a learning rate that is negative or not finite.
    ///
    /// ```
    /// assert!(nninit::Sgd::try_new(0.1).is_ok());
    /// assert!(nninit::Sgd::try_new(f32::NAN).is_err());
    /// ```
    pub fn try_new(learning_rate: f32) -> Result<Sgd> {
        Sgd::new(learning_rate).checked()
    }

    /// The optimizer, if every hyperparameter is valid (finite and `>= 0`; Nesterov with
    /// momentum and no dampening): the check each step makes, done at construction.
    ///
    /// ```
    /// let sgd = nninit::Sgd::new(0.1).momentum(0.9).nesterov(true).checked()?;
    /// assert!(nninit::Sgd::new(0.1).weight_decay(f32::INFINITY).checked().is_err());
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn checked(self) -> Result<Sgd> {
        self.validate()?;
        Ok(self)
    }

    /// Momentum factor `μ >= 0` (default 0; values below 1 converge).
    ///
    /// ```
    /// let sgd = nninit::Sgd::new(0.1).momentum(0.9);
    /// assert!(format!("{sgd:?}").contains("momentum: 0.9"));
    /// ```
    pub fn momentum(mut self, momentum: f32) -> Sgd {
        self.momentum = momentum;
        self
    }

    /// Dampening `τ` of the momentum buffer (default 0; must be 0 with Nesterov).
    ///
    /// ```
    /// let sgd = nninit::Sgd::new(0.1).momentum(0.9).dampening(0.1);
    /// assert!(format!("{sgd:?}").contains("dampening: 0.1"));
    /// ```
    pub fn dampening(mut self, dampening: f32) -> Sgd {
        self.dampening = dampening;
        self
    }

    /// Nesterov momentum (default off; needs momentum > 0 and zero dampening, as in PyTorch).
    ///
    /// ```
    /// use nninit::{Optimizer, Parameter, Sgd};
    /// let mut p = [0.0f32];
    /// let mut sgd = Sgd::new(1.0).nesterov(true); // no momentum: an error, as in PyTorch
    /// assert!(sgd.step(&mut [Parameter { values: &mut p, gradient: &[1.0] }]).is_err());
    /// ```
    pub fn nesterov(mut self, nesterov: bool) -> Sgd {
        self.nesterov = nesterov;
        self
    }

    /// L2 weight decay: adds `weight_decay · p` to the gradient (default 0).
    ///
    /// ```
    /// use nninit::{Optimizer, Parameter, Sgd};
    /// let mut p = [1.0f32];
    /// Sgd::new(0.1).weight_decay(0.5).step(&mut [Parameter { values: &mut p, gradient: &[0.0] }])?;
    /// assert!((p[0] - 0.95).abs() < 1e-7);
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn weight_decay(mut self, weight_decay: f32) -> Sgd {
        self.weight_decay = weight_decay;
        self
    }

    fn validate(&self) -> Result<()> {
        check_non_negative("learning_rate", self.learning_rate)?;
        check_non_negative("weight_decay", self.weight_decay)?;
        check_non_negative("dampening", self.dampening)?;
        check_non_negative("momentum", self.momentum)?;
        if self.nesterov && (self.momentum == 0.0 || self.dampening != 0.0) {
            return Err(Error::invalid(
                "nesterov",
                "used with momentum > 0 and zero dampening",
                format!(
                    "momentum {} and dampening {}",
                    self.momentum, self.dampening
                ),
            ));
        }
        Ok(())
    }
}

/// The settings of one SGD step, copied out of the optimizer so that the loops over the
/// elements vectorize.
#[derive(Clone, Copy, Debug)]
struct SgdStep {
    learning_rate: f32,
    weight_decay: f32,
    momentum: f32,
    /// `1 − dampening`.
    keep: f32,
    nesterov: bool,
    /// The first step with momentum: the buffer starts as the gradient.
    first: bool,
}

impl SgdStep {
    /// The new value of one element and of its momentum buffer (0 without momentum).
    #[inline(always)]
    fn update(self, value: f32, gradient: f32, buffer: f32) -> (f32, f32) {
        let g = gradient + self.weight_decay * value;
        if self.momentum == 0.0 {
            return (value - self.learning_rate * g, 0.0);
        }
        let b = if self.first {
            g
        } else {
            self.momentum * buffer + self.keep * g
        };
        let direction = if self.nesterov {
            g + self.momentum * b
        } else {
            b
        };
        (value - self.learning_rate * direction, b)
    }
}

impl SgdStep {
    /// These settings with the learning rate times `scale` and the weight decay divided by it.
    fn scaled(self, scale: f32) -> SgdStep {
        let (learning_rate, weight_decay) = scaled(self.learning_rate, self.weight_decay, scale);
        SgdStep {
            learning_rate,
            weight_decay,
            ..self
        }
    }
}

impl Sgd {
    fn step_settings(&self, first: bool) -> SgdStep {
        SgdStep {
            learning_rate: self.learning_rate,
            weight_decay: self.weight_decay,
            momentum: self.momentum,
            keep: 1.0 - self.dampening,
            nesterov: self.nesterov,
            first,
        }
    }
}

impl Optimizer for Sgd {
    fn name(&self) -> &str {
        "sgd"
    }

    fn step(&mut self, parameters: &mut [Parameter<'_>]) -> Result<()> {
        self.step_named(parameters, &|index| format!("parameter {index}"))
    }

    fn step_named(
        &mut self,
        parameters: &mut [Parameter<'_>],
        names: &dyn Fn(usize) -> String,
    ) -> Result<()> {
        self.validate()?;
        check_gradients(parameters)?;
        self.step_with(parameters, &|_| 1.0, names)
    }

    fn family(&self) -> OptimizerFamily {
        OptimizerFamily::SgdLike
    }

    fn checks_before_writing(&self) -> bool {
        true
    }

    fn step_scaled(
        &mut self,
        parameters: &mut [Parameter<'_>],
        scales: &[f32],
        names: &dyn Fn(usize) -> String,
    ) -> Result<()> {
        self.validate()?;
        check_gradients(parameters)?;
        check_scales(parameters, scales)?;
        self.step_with(parameters, &|index| scales[index], names)
    }

    fn learning_rate(&self) -> f32 {
        self.learning_rate
    }

    fn set_learning_rate(&mut self, learning_rate: f32) {
        self.learning_rate = learning_rate;
    }

    fn reset(&mut self) {
        self.buffers.clear();
    }
}

impl Sgd {
    /// One step with parameter `i`'s learning rate multiplied by `scale(i)` (validated, as
    /// are the gradients' lengths and the settings). The loops run at the detected ISA's
    /// width; the update makes no ISA-dependent choice (Rust never fuses `a * b + c`), so its
    /// bits do not depend on the ISA.
    fn step_with(
        &mut self,
        parameters: &mut [Parameter<'_>],
        scale: &(dyn Fn(usize) -> f32 + Sync),
        names: &dyn Fn(usize) -> String,
    ) -> Result<()> {
        let momentum = self.momentum != 0.0;
        if momentum && !self.buffers.is_empty() {
            check_state(&self.buffers, parameters, "sgd momentum buffers")?;
        }
        // The first step with momentum works on new buffers, kept only if it succeeds.
        let first = momentum && self.buffers.is_empty();
        let mut buffers = match (first, momentum) {
            (true, _) => zeroed_like(parameters),
            (false, true) => std::mem::take(&mut self.buffers),
            // Without momentum no buffer is read or written (old ones are left alone).
            (false, false) => Vec::new(),
        };
        let settings = self.step_settings(first);
        let tasks = tasks_for(parameters);
        // Every new value is computed once to check it, then again to write it: no copy of
        // the parameters, and nothing changes unless everything is finite. The check runs in
        // parallel chunks; only if it finds a non-finite value does the loop below look for
        // the first one, to name it.
        let step_of = |index: usize| settings.scaled(scale(index));
        let all_finite = sgd_updates_are_finite(parameters, &buffers, &step_of, tasks);
        if !all_finite {
            // Name the first parameter and element whose update is not finite.
            for (index, parameter) in parameters.iter().enumerate() {
                let step = step_of(index);
                let buffer = buffers.get(index).map_or(parameter.gradient, Vec::as_slice);
                let update = |p, g, b, _| {
                    let (p, b) = step.update(p, g, b);
                    [p, b, 0.0]
                };
                if let Some((element, value)) = locate_non_finite(parameter, buffer, buffer, update)
                {
                    if momentum && !first {
                        self.buffers = buffers;
                    }
                    return Err(update_error(names(index), element, value));
                }
            }
            // The vectorized check found one; the step is refused even if this look did not.
            if momentum && !first {
                self.buffers = buffers;
            }
            return Err(update_error(names(0), 0, f32::NAN));
        }
        write_sgd_updates(parameters, &mut buffers, &step_of, tasks);
        if momentum {
            self.buffers = buffers;
        }
        Ok(())
    }
}

/// Elements per chunk of the optimizers' parallel passes: enough work (some 2 µs) that taking
/// a chunk from the shared queue costs little, and enough chunks that two threads end together.
const UPDATE_CHUNK: usize = 1 << 14;

/// Fewest values in all for which an optimizer's passes are split over threads.
const PARALLEL_MIN_VALUES: usize = 1 << 16;

/// How many tasks share an update of `parameters`: one below [`PARALLEL_MIN_VALUES`] in all (a
/// 2-4-1 network's 17 take well under a microsecond), else one per thread.
fn tasks_for(parameters: &[Parameter<'_>]) -> usize {
    let total: usize = parameters.iter().map(|p| p.values.len()).sum();
    if total < PARALLEL_MIN_VALUES {
        1
    } else {
        crate::threads::num_threads()
    }
}

/// Whether every SGD update of `parameters` (with `buffers`, if momentum) is finite, checked
/// in chunks by `tasks` tasks.
fn sgd_updates_are_finite(
    parameters: &[Parameter<'_>],
    buffers: &[Vec<f32>],
    step_of: &(dyn Fn(usize) -> SgdStep + Sync),
    tasks: usize,
) -> bool {
    let chunks = parameters
        .iter()
        .enumerate()
        .flat_map(|(index, parameter)| {
            // Without momentum the buffer is not read: the gradient stands in for it.
            let buffer = buffers.get(index).map_or(parameter.gradient, Vec::as_slice);
            let values = parameter.values.chunks(UPDATE_CHUNK);
            let gradient = parameter.gradient.chunks(UPDATE_CHUNK);
            values
                .zip(gradient)
                .zip(buffer.chunks(UPDATE_CHUNK))
                .map(move |((p, g), b)| (index, p, g, b))
        });
    let all_finite = AtomicBool::new(true);
    let momentum = !buffers.is_empty();
    crate::threads::for_each_item(tasks, chunks, &|(index, p, g, b)| {
        let step = step_of(index);
        let (learning_rate, weight_decay) = (step.learning_rate, step.weight_decay);
        let finite = if momentum {
            let update = |p, g, b, _| {
                let (p, b) = step.update(p, g, b);
                [p, b, 0.0]
            };
            updates_are_finite(p, g, b, b, update)
        } else {
            // Plain SGD, the common case, gets a loop without the momentum branches.
            let plain =
                |p: f32, g: f32, _, _| [p - learning_rate * (g + weight_decay * p), 0.0, 0.0];
            updates_are_finite(p, g, b, b, plain)
        };
        if !finite {
            all_finite.store(false, Ordering::Relaxed);
        }
    });
    all_finite.into_inner()
}

/// Writes every SGD update of `parameters` (and `buffers`, if momentum), in chunks by `tasks`
/// tasks: each element's update is independent, so the split changes no bit.
fn write_sgd_updates(
    parameters: &mut [Parameter<'_>],
    buffers: &mut [Vec<f32>],
    step_of: &(dyn Fn(usize) -> SgdStep + Sync),
    tasks: usize,
) {
    let mut buffers = buffers.iter_mut();
    let chunks = parameters
        .iter_mut()
        .enumerate()
        .flat_map(|(index, parameter)| {
            // The buffer's chunk beside each chunk of values, if there is a buffer.
            let buffer_chunks = buffers.next().map(|b| b.chunks_mut(UPDATE_CHUNK));
            let values = parameter.values.chunks_mut(UPDATE_CHUNK);
            let gradient = parameter.gradient.chunks(UPDATE_CHUNK);
            values
                .zip(gradient)
                .scan(buffer_chunks, move |buffer_chunks, (p, g)| {
                    Some((index, p, g, buffer_chunks.as_mut().and_then(Iterator::next)))
                })
        });
    crate::threads::for_each_item(tasks, chunks, &|(index, values, gradient, buffer)| {
        let step = step_of(index);
        compiled_for(
            Isa::active(),
            #[inline(always)]
            || match buffer {
                Some(buffer) => write_with_buffer(values, gradient, buffer, step),
                None => write_plain(values, gradient, step),
            },
        );
    });
}

// The write loops take the slices as arguments: inlined, their `noalias` survives as alias
// scopes, which lets the compiler vectorize without checking at run time that the parameters
// and the gradient do not overlap (captured by a closure, the slices lose it).

/// `p ← p − lr · g` (with weight decay), no momentum.
#[inline(always)]
fn write_plain(values: &mut [f32], gradient: &[f32], step: SgdStep) {
    for (p, &g) in values.iter_mut().zip(gradient) {
        *p = step.update(*p, g, 0.0).0;
    }
}

/// The momentum update of the parameters and their buffer.
#[inline(always)]
fn write_with_buffer(values: &mut [f32], gradient: &[f32], buffer: &mut [f32], step: SgdStep) {
    for ((p, &g), b) in values.iter_mut().zip(gradient).zip(buffer) {
        (*p, *b) = step.update(*p, g, *b);
    }
}

/// Adam (Kingma & Ba, 2015) with PyTorch's `torch.optim.Adam` / `AdamW` update rule.
///
/// With `t` the step count, `g` the gradient (plus `weight_decay · p` in L2 mode):
/// `m ← β₁ m + (1 − β₁) g`, `v ← β₂ v + (1 − β₂) g²`,
/// `p ← p − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + eps)`.
/// In decoupled mode (AdamW, Loshchilov & Hutter, 2019) the gradient is left alone and
/// `p ← p (1 − lr · weight_decay)` before the update. Defaults: betas (0.9, 0.999),
/// eps 1e-8, no weight decay.
///
/// ```
/// use nninit::{Adam, Optimizer, Parameter};
/// let mut adam = Adam::new(0.01);
/// let mut p = [1.0f32];
/// adam.step(&mut [Parameter { values: &mut p, gradient: &[3.0] }])?;
/// // The first step moves every parameter by about lr, whatever the gradient's scale.
/// assert!((p[0] - 0.99).abs() < 1e-6);
/// # Ok::<(), nninit::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Adam {
    learning_rate: f32,
    beta1: f32,
    beta2: f32,
    eps: f32,
    weight_decay: f32,
    decoupled: bool,
    step_count: u64,
    first_moments: Vec<Vec<f32>>,
    second_moments: Vec<Vec<f32>>,
}

impl Adam {
    /// Adam with learning rate `learning_rate` and PyTorch's defaults for the rest.
    ///
    /// The learning rate and weight decay must be finite and `>= 0`, the betas in `[0, 1)`
    /// and `eps` finite and `> 0` (PyTorch accepts `eps = 0`, which divides zero by zero for
    /// any weight whose gradient has always been zero). The setters stay infallible:
    /// [`Adam::try_new`] and [`Adam::checked`] refuse bad values when the optimizer is built,
    /// and every step checks them again.
    ///
    /// ```
    /// use nninit::Optimizer;
    /// assert_eq!(nninit::Adam::new(1e-3).learning_rate(), 1e-3);
    /// ```
    pub fn new(learning_rate: f32) -> Adam {
        Adam {
            learning_rate,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            decoupled: false,
            step_count: 0,
            first_moments: Vec::new(),
            second_moments: Vec::new(),
        }
    }

    /// Adam, refusing a learning rate that is negative or not finite.
    ///
    /// ```
    /// assert!(nninit::Adam::try_new(1e-3).is_ok());
    /// assert!(nninit::Adam::try_new(-1e-3).is_err());
    /// ```
    pub fn try_new(learning_rate: f32) -> Result<Adam> {
        Adam::new(learning_rate).checked()
    }

    /// The optimizer, if every hyperparameter is valid: the check each step makes, done at
    /// construction.
    ///
    /// ```
    /// let adam = nninit::Adam::new(1e-3).betas(0.9, 0.99).checked()?;
    /// assert!(nninit::Adam::new(1e-3).eps(0.0).checked().is_err());
    /// assert!(nninit::Adam::new(1e-3).betas(0.9, 1.0).checked().is_err());
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn checked(self) -> Result<Adam> {
        self.validate()?;
        Ok(self)
    }

    /// AdamW: Adam with decoupled weight decay `weight_decay` (PyTorch's `AdamW` default is
    /// 0.01).
    ///
    /// ```
    /// let adamw = nninit::Adam::adamw(1e-3, 0.01);
    /// assert!(format!("{adamw:?}").contains("decoupled: true"));
    /// ```
    pub fn adamw(learning_rate: f32, weight_decay: f32) -> Adam {
        Adam::new(learning_rate)
            .weight_decay(weight_decay)
            .decoupled_weight_decay(true)
    }

    /// The moment decay rates `(β₁, β₂)`, each in `[0, 1)`.
    ///
    /// ```
    /// let adam = nninit::Adam::new(1e-3).betas(0.8, 0.99);
    /// assert!(format!("{adam:?}").contains("beta1: 0.8, beta2: 0.99"));
    /// ```
    pub fn betas(mut self, beta1: f32, beta2: f32) -> Adam {
        self.beta1 = beta1;
        self.beta2 = beta2;
        self
    }

    /// The term added to the denominator for stability (default 1e-8; must be `> 0`).
    ///
    /// ```
    /// let adam = nninit::Adam::new(1e-3).eps(1e-6);
    /// assert!(format!("{adam:?}").contains("eps: 1e-6"));
    /// ```
    pub fn eps(mut self, eps: f32) -> Adam {
        self.eps = eps;
        self
    }

    /// Weight decay (default 0): L2 (added to the gradient) unless
    /// [`decoupled_weight_decay`](Adam::decoupled_weight_decay) is on.
    ///
    /// ```
    /// use nninit::{Adam, Optimizer, Parameter};
    /// let mut p = [1.0f32];
    /// Adam::new(0.1).weight_decay(0.5).step(&mut [Parameter { values: &mut p, gradient: &[0.0] }])?;
    /// assert!((p[0] - 0.9).abs() < 1e-6); // the decay term alone drives a full Adam step
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn weight_decay(mut self, weight_decay: f32) -> Adam {
        self.weight_decay = weight_decay;
        self
    }

    /// Decoupled (AdamW) weight decay: `p ← p (1 − lr · weight_decay)` instead of L2.
    ///
    /// ```
    /// use nninit::{Adam, Optimizer, Parameter};
    /// let mut p = [1.0f32];
    /// let mut adamw = Adam::new(0.1).weight_decay(0.5).decoupled_weight_decay(true);
    /// adamw.step(&mut [Parameter { values: &mut p, gradient: &[0.0] }])?;
    /// assert!((p[0] - 0.95).abs() < 1e-6); // decay only: zero gradient, zero Adam step
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn decoupled_weight_decay(mut self, decoupled: bool) -> Adam {
        self.decoupled = decoupled;
        self
    }

    fn validate(&self) -> Result<()> {
        check_non_negative("learning_rate", self.learning_rate)?;
        if !(self.eps.is_finite() && self.eps > 0.0) {
            return Err(Error::invalid("eps", "finite and > 0", self.eps));
        }
        check_non_negative("weight_decay", self.weight_decay)?;
        for (name, beta) in [("beta1", self.beta1), ("beta2", self.beta2)] {
            if !(0.0..1.0).contains(&beta) {
                return Err(Error::invalid(name, "in [0, 1)", beta));
            }
        }
        Ok(())
    }
}

/// The constants of one Adam step.
#[derive(Clone, Copy, Debug)]
struct AdamStep {
    beta1: f32,
    beta2: f32,
    eps: f32,
    /// `lr / (1 − β₁ᵗ)`.
    step_size: f32,
    /// `1 / √(1 − β₂ᵗ)`.
    inv_correction2_sqrt: f32,
    /// Weight decay added to the gradient (L2 mode; 0 when decoupled).
    l2: f32,
    /// The decoupled decay factor `1 − lr · weight_decay` (1 in L2 mode).
    shrink: f32,
}

impl AdamStep {
    /// The new value, first moment and second moment of one element.
    fn update(&self, value: f32, gradient: f32, m: f32, v: f32) -> (f32, f32, f32) {
        let g = gradient + self.l2 * value;
        let value = value * self.shrink;
        let m = self.beta1 * m + (1.0 - self.beta1) * g;
        let v = self.beta2 * v + (1.0 - self.beta2) * g * g;
        let denominator = v.sqrt() * self.inv_correction2_sqrt + self.eps;
        (value - self.step_size * m / denominator, m, v)
    }
}

impl Adam {
    /// The constants of step number `t` (counting from 1) for a parameter whose learning rate
    /// is multiplied by `scale` (and weight decay divided by it).
    fn constants(&self, t: u64, scale: f32) -> AdamStep {
        let (learning_rate, weight_decay) = scaled(self.learning_rate, self.weight_decay, scale);
        // Bias corrections in f64, as PyTorch computes them in Python floats.
        let t = t as f64;
        let correction1 = 1.0 - f64::from(self.beta1).powf(t);
        let correction2_sqrt = (1.0 - f64::from(self.beta2).powf(t)).sqrt();
        AdamStep {
            beta1: self.beta1,
            beta2: self.beta2,
            eps: self.eps,
            step_size: (f64::from(learning_rate) / correction1) as f32,
            inv_correction2_sqrt: (1.0 / correction2_sqrt) as f32,
            l2: if self.decoupled { 0.0 } else { weight_decay },
            shrink: if self.decoupled {
                1.0 - learning_rate * weight_decay
            } else {
                1.0
            },
        }
    }
}

impl Optimizer for Adam {
    fn name(&self) -> &str {
        if self.decoupled { "adamw" } else { "adam" }
    }

    fn step(&mut self, parameters: &mut [Parameter<'_>]) -> Result<()> {
        self.step_named(parameters, &|index| format!("parameter {index}"))
    }

    fn step_named(
        &mut self,
        parameters: &mut [Parameter<'_>],
        names: &dyn Fn(usize) -> String,
    ) -> Result<()> {
        self.validate()?;
        check_gradients(parameters)?;
        self.step_with(parameters, &|_| 1.0, names)
    }

    fn family(&self) -> OptimizerFamily {
        OptimizerFamily::AdamLike
    }

    fn checks_before_writing(&self) -> bool {
        true
    }

    fn step_scaled(
        &mut self,
        parameters: &mut [Parameter<'_>],
        scales: &[f32],
        names: &dyn Fn(usize) -> String,
    ) -> Result<()> {
        self.validate()?;
        check_gradients(parameters)?;
        check_scales(parameters, scales)?;
        self.step_with(parameters, &|index| scales[index], names)
    }

    fn learning_rate(&self) -> f32 {
        self.learning_rate
    }

    fn set_learning_rate(&mut self, learning_rate: f32) {
        self.learning_rate = learning_rate;
    }

    fn reset(&mut self) {
        self.step_count = 0;
        self.first_moments.clear();
        self.second_moments.clear();
    }
}

impl Adam {
    /// One step with parameter `i`'s learning rate multiplied by `scale(i)` (validated, as
    /// are the gradients' lengths and the settings). The loops run at the detected ISA's
    /// width; the update makes no ISA-dependent choice (Rust never fuses `a * b + c`), so its
    /// bits do not depend on the ISA.
    fn step_with(
        &mut self,
        parameters: &mut [Parameter<'_>],
        scale: &dyn Fn(usize) -> f32,
        names: &dyn Fn(usize) -> String,
    ) -> Result<()> {
        if !self.first_moments.is_empty() {
            check_state(&self.first_moments, parameters, "adam first moments")?;
            check_state(&self.second_moments, parameters, "adam second moments")?;
        }
        let t = self.step_count + 1;
        // The first step works on new moments, kept only if it succeeds.
        let first = self.first_moments.is_empty();
        let (mut first_moments, mut second_moments) = if first {
            (zeroed_like(parameters), zeroed_like(parameters))
        } else {
            (
                std::mem::take(&mut self.first_moments),
                std::mem::take(&mut self.second_moments),
            )
        };
        // Checked first, written after: nothing changes unless every new value is finite.
        for (index, parameter) in parameters.iter().enumerate() {
            let step = self.constants(t, scale(index));
            let update = |p, g, m, v| {
                let (p, m, v) = step.update(p, g, m, v);
                [p, m, v]
            };
            let (m, v) = (&first_moments[index], &second_moments[index]);
            if !updates_are_finite(parameter.values, parameter.gradient, m, v, update) {
                // The vectorized check said one is there; NaN if the scalar look disagrees.
                let (element, value) =
                    locate_non_finite(parameter, m, v, update).unwrap_or((0, f32::NAN));
                if !first {
                    self.first_moments = first_moments;
                    self.second_moments = second_moments;
                }
                return Err(update_error(names(index), element, value));
            }
        }
        for (index, parameter) in parameters.iter_mut().enumerate() {
            let step = self.constants(t, scale(index));
            let m = &mut first_moments[index];
            let v = &mut second_moments[index];
            let values = &mut *parameter.values;
            let gradient = parameter.gradient;
            compiled_for(
                Isa::active(),
                #[inline(always)]
                || write_adam(values, gradient, m, v, step),
            );
        }
        self.first_moments = first_moments;
        self.second_moments = second_moments;
        self.step_count += 1;
        Ok(())
    }
}

/// Adam's update of the parameters and both moments (see the SGD write loops on `noalias`).
#[inline(always)]
fn write_adam(values: &mut [f32], gradient: &[f32], m: &mut [f32], v: &mut [f32], step: AdamStep) {
    for (((p, &g), m), v) in values.iter_mut().zip(gradient).zip(m).zip(v) {
        (*p, *m, *v) = step.update(*p, g, *m, *v);
    }
}

/// The learning rate times `scale` and the weight decay divided by it (muP keeps their
/// product); a scale of exactly 1 leaves both bit-identical.
fn scaled(learning_rate: f32, weight_decay: f32, scale: f32) -> (f32, f32) {
    if scale == 1.0 {
        (learning_rate, weight_decay)
    } else {
        (learning_rate * scale, weight_decay / scale)
    }
}

/// Checks there is one positive finite learning-rate scale per parameter.
fn check_scales(parameters: &[Parameter<'_>], scales: &[f32]) -> Result<()> {
    if scales.len() != parameters.len() {
        return Err(Error::LengthMismatch {
            what: "learning_rate_scales".into(),
            expected: format!("{} (one per parameter)", parameters.len()),
            found: scales.len(),
        });
    }
    match scales.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
        Some(&bad) => Err(Error::invalid(
            "learning_rate_scales",
            "finite and > 0",
            bad,
        )),
        None => Ok(()),
    }
}

/// Zeroed state, one buffer per parameter.
fn zeroed_like(parameters: &[Parameter<'_>]) -> Vec<Vec<f32>> {
    parameters
        .iter()
        .map(|p| vec![0.0; p.values.len()])
        .collect()
}

/// Lanes of the finiteness check: eight independent sums the compiler keeps in one register.
const LANES: usize = 8;

/// Whether `update(p, g, a, b)` is finite in all three outputs for every element, `a` and `b`
/// the elements of two state buffers (of the parameter's length). Branch-free over [`LANES`]
/// lanes so that the loop vectorizes: `x · 0` is `±0` for finite `x` and NaN otherwise, and NaN
/// survives the sums.
fn updates_are_finite(
    values: &[f32],
    gradient: &[f32],
    first: &[f32],
    second: &[f32],
    update: impl Fn(f32, f32, f32, f32) -> [f32; 3],
) -> bool {
    compiled_for(
        Isa::active(),
        #[inline(always)]
        || finite_updates(values, gradient, first, second, update),
    )
}

/// The body of [`updates_are_finite`], inlined into the ISA's compiled code.
#[inline(always)]
fn finite_updates(
    values: &[f32],
    gradient: &[f32],
    first: &[f32],
    second: &[f32],
    update: impl Fn(f32, f32, f32, f32) -> [f32; 3],
) -> bool {
    let mut lanes = [0.0f32; LANES];
    let chunks = values
        .chunks_exact(LANES)
        .zip(gradient.chunks_exact(LANES))
        .zip(first.chunks_exact(LANES))
        .zip(second.chunks_exact(LANES));
    for (((p, g), a), b) in chunks {
        for k in 0..LANES {
            let [x, y, z] = update(p[k], g[k], a[k], b[k]);
            lanes[k] += x * 0.0 + y * 0.0 + z * 0.0;
        }
    }
    let tail = values.len() - values.len() % LANES;
    let tail: f32 = (tail..values.len())
        .map(|i| {
            let [x, y, z] = update(values[i], gradient[i], first[i], second[i]);
            x * 0.0 + y * 0.0 + z * 0.0
        })
        .sum();
    (lanes.iter().sum::<f32>() + tail).is_finite()
}

/// The first element whose update is not finite, and the offending value, if any.
fn locate_non_finite(
    parameter: &Parameter<'_>,
    first: &[f32],
    second: &[f32],
    update: impl Fn(f32, f32, f32, f32) -> [f32; 3],
) -> Option<(usize, f32)> {
    let elements = parameter.values.iter().zip(parameter.gradient);
    for (j, ((&p, &g), (&a, &b))) in elements.zip(first.iter().zip(second)).enumerate() {
        if let Some(bad) = update(p, g, a, b).into_iter().find(|x| !x.is_finite()) {
            return Some((j, bad));
        }
    }
    None
}

/// The error for an update that would leave `value` in element `element` of `name`.
fn update_error(name: String, element: usize, value: f32) -> Error {
    Error::NonFinite {
        what: format!("{name}, element {element}, after the update"),
        value: f64::from(value),
    }
}

/// Checks that a hyperparameter is finite and `>= 0`.
fn check_non_negative(name: &'static str, value: f32) -> Result<()> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(Error::invalid(name, "finite and >= 0", value))
    }
}

/// Checks each gradient has its parameter's length.
fn check_gradients(parameters: &[Parameter<'_>]) -> Result<()> {
    for (index, parameter) in parameters.iter().enumerate() {
        if parameter.gradient.len() != parameter.values.len() {
            return Err(Error::LengthMismatch {
                what: format!("gradient of parameter {index}"),
                expected: parameter.values.len().to_string(),
                found: parameter.gradient.len(),
            });
        }
    }
    Ok(())
}

/// Checks that the parameters still match the state allocated on the first step.
fn check_state(state: &[Vec<f32>], parameters: &[Parameter<'_>], what: &str) -> Result<()> {
    let expected: Vec<usize> = state.iter().map(Vec::len).collect();
    let found: Vec<usize> = parameters.iter().map(|p| p.values.len()).collect();
    if expected != found {
        return Err(Error::ShapeMismatch {
            what: "the parameters passed to the optimizer".into(),
            expected_by: format!("its {what} (one optimizer per network)"),
            expected,
            found,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(optimizer: &mut dyn Optimizer, p: &mut [f32], gradients: &[&[f32]]) {
        for g in gradients {
            let mut params = [Parameter {
                values: &mut *p,
                gradient: g,
            }];
            optimizer.step(&mut params).unwrap();
        }
    }

    // The reference is the algorithm box of PyTorch's `torch.optim.SGD` / `Adam` docs
    // evaluated in f64; the f32 updates agree to rounding (|p| ~ 2, a few steps: < 1e-6).
    #[test]
    fn sgd_nesterov_matches_the_pytorch_recurrence() {
        let gradients: [&[f32]; 3] = [&[0.5, -1.0], &[0.25, 0.5], &[-1.0, 2.0]];
        let mut p = [1.0f32, -2.0];
        run(
            &mut Sgd::new(0.1)
                .momentum(0.9)
                .nesterov(true)
                .weight_decay(0.01),
            &mut p,
            &gradients,
        );
        let mut expected = [1.0f64, -2.0];
        let mut buffer = [0.0f64; 2];
        for (step, g) in gradients.iter().enumerate() {
            for j in 0..2 {
                let g = f64::from(g[j]) + 0.01 * expected[j];
                buffer[j] = if step == 0 { g } else { 0.9 * buffer[j] + g };
                expected[j] -= 0.1 * (g + 0.9 * buffer[j]);
            }
        }
        for j in 0..2 {
            assert!(
                (f64::from(p[j]) - expected[j]).abs() < 1e-6,
                "{p:?} vs {expected:?}"
            );
        }
    }

    #[test]
    fn adam_matches_the_pytorch_recurrence() {
        let gradients: [&[f32]; 3] = [&[0.5, -1.0], &[0.25, 0.5], &[-1.0, 2.0]];
        for decoupled in [false, true] {
            let mut p = [1.0f32, -2.0];
            let mut adam = Adam::new(0.01)
                .betas(0.8, 0.99)
                .weight_decay(0.1)
                .decoupled_weight_decay(decoupled);
            run(&mut adam, &mut p, &gradients);
            let mut expected = [1.0f64, -2.0];
            let (mut m, mut v) = ([0.0f64; 2], [0.0f64; 2]);
            for (step, g) in gradients.iter().enumerate() {
                let t = (step + 1) as i32;
                for j in 0..2 {
                    let mut g = f64::from(g[j]);
                    if decoupled {
                        expected[j] *= 1.0 - 0.01 * 0.1;
                    } else {
                        g += 0.1 * expected[j];
                    }
                    m[j] = 0.8 * m[j] + 0.2 * g;
                    v[j] = 0.99 * v[j] + 0.01 * g * g;
                    let m_hat = m[j] / (1.0 - 0.8f64.powi(t));
                    let v_hat = v[j] / (1.0 - 0.99f64.powi(t));
                    expected[j] -= 0.01 * m_hat / (v_hat.sqrt() + 1e-8);
                }
            }
            for j in 0..2 {
                assert!(
                    (f64::from(p[j]) - expected[j]).abs() < 1e-6,
                    "{p:?} vs {expected:?}"
                );
            }
        }
    }

    #[test]
    fn invalid_settings_are_typed_errors() {
        let mut p = [0.0f32];
        for mut optimizer in [
            Box::new(Sgd::new(-1.0)) as Box<dyn Optimizer>,
            Box::new(Sgd::new(0.1).momentum(-0.5)),
            Box::new(Adam::new(0.1).betas(1.0, 0.9)),
            Box::new(Adam::new(f32::NAN)),
        ] {
            let err = optimizer
                .step(&mut [Parameter {
                    values: &mut p,
                    gradient: &[1.0],
                }])
                .unwrap_err();
            assert!(matches!(err, Error::InvalidArgument { .. }), "{err}");
        }
        assert_eq!(p, [0.0]);
    }

    #[test]
    fn a_second_network_is_refused() {
        let mut adam = Adam::new(0.1);
        let mut a = [0.0f32; 2];
        let mut b = [0.0f32; 3];
        adam.step(&mut [Parameter {
            values: &mut a,
            gradient: &[1.0, 1.0],
        }])
        .unwrap();
        let err = adam
            .step(&mut [Parameter {
                values: &mut b,
                gradient: &[1.0; 3],
            }])
            .unwrap_err();
        assert!(matches!(err, Error::ShapeMismatch { .. }));
    }
}
