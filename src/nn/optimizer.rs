//! Optimizers: the `Optimizer` trait, `Sgd` (with momentum, Nesterov, weight decay) and `Adam`
//! (with L2 or decoupled AdamW weight decay), following PyTorch's update rules.

use std::fmt::Debug;

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
    fn step(&mut self, parameters: &mut [Parameter<'_>]) -> Result<()>;

    /// The current learning rate.
    fn learning_rate(&self) -> f32;

    /// Changes the learning rate (for schedules); the state is kept.
    fn set_learning_rate(&mut self, learning_rate: f32);

    /// Forgets all state (momentum buffers, moments, the step count).
    fn reset(&mut self);
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
    /// Every hyperparameter is validated at each step, as PyTorch does at construction:
    /// finite and `>= 0`, and Nesterov needs momentum.
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

impl Optimizer for Sgd {
    fn name(&self) -> &str {
        "sgd"
    }

    fn step(&mut self, parameters: &mut [Parameter<'_>]) -> Result<()> {
        self.validate()?;
        check_gradients(parameters)?;
        let first_step = self.momentum != 0.0 && self.buffers.is_empty();
        if self.momentum != 0.0 {
            prepare_state(&mut self.buffers, parameters, "sgd momentum buffers")?;
        }
        let (lr, mu, decay) = (self.learning_rate, self.momentum, self.weight_decay);
        for (index, parameter) in parameters.iter_mut().enumerate() {
            let values = &mut *parameter.values;
            if mu == 0.0 {
                for (p, &g) in values.iter_mut().zip(parameter.gradient) {
                    *p -= lr * (g + decay * *p);
                }
                continue;
            }
            let buffer = &mut self.buffers[index];
            let keep = 1.0 - self.dampening;
            for ((p, &g), b) in values.iter_mut().zip(parameter.gradient).zip(buffer) {
                let g = g + decay * *p;
                *b = if first_step { g } else { mu * *b + keep * g };
                let direction = if self.nesterov { g + mu * *b } else { *b };
                *p -= lr * direction;
            }
        }
        Ok(())
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

    /// The term added to the denominator for stability (default 1e-8).
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
        check_non_negative("eps", self.eps)?;
        check_non_negative("weight_decay", self.weight_decay)?;
        for (name, beta) in [("beta1", self.beta1), ("beta2", self.beta2)] {
            if !(0.0..1.0).contains(&beta) {
                return Err(Error::invalid(name, "in [0, 1)", beta));
            }
        }
        Ok(())
    }
}

impl Optimizer for Adam {
    fn name(&self) -> &str {
        if self.decoupled { "adamw" } else { "adam" }
    }

    fn step(&mut self, parameters: &mut [Parameter<'_>]) -> Result<()> {
        self.validate()?;
        check_gradients(parameters)?;
        prepare_state(&mut self.first_moments, parameters, "adam first moments")?;
        prepare_state(&mut self.second_moments, parameters, "adam second moments")?;
        self.step_count += 1;
        // Bias corrections in f64, as PyTorch computes them in Python floats.
        let t = self.step_count as f64;
        let correction1 = 1.0 - f64::from(self.beta1).powf(t);
        let correction2_sqrt = (1.0 - f64::from(self.beta2).powf(t)).sqrt();
        let step_size = (f64::from(self.learning_rate) / correction1) as f32;
        let inv_correction2_sqrt = (1.0 / correction2_sqrt) as f32;
        let (b1, b2, eps) = (self.beta1, self.beta2, self.eps);
        let l2 = if self.decoupled {
            0.0
        } else {
            self.weight_decay
        };
        let shrink = if self.decoupled {
            1.0 - self.learning_rate * self.weight_decay
        } else {
            1.0
        };
        for (index, parameter) in parameters.iter_mut().enumerate() {
            let m = &mut self.first_moments[index];
            let v = &mut self.second_moments[index];
            let values = &mut *parameter.values;
            for (((p, &g), m), v) in values.iter_mut().zip(parameter.gradient).zip(m).zip(v) {
                let g = g + l2 * *p;
                *p *= shrink;
                *m = b1 * *m + (1.0 - b1) * g;
                *v = b2 * *v + (1.0 - b2) * g * g;
                let denominator = v.sqrt() * inv_correction2_sqrt + eps;
                *p -= step_size * *m / denominator;
            }
        }
        Ok(())
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

/// Allocates zeroed state on the first call; afterwards checks the parameters still match it.
fn prepare_state(
    state: &mut Vec<Vec<f32>>,
    parameters: &[Parameter<'_>],
    what: &str,
) -> Result<()> {
    if state.is_empty() {
        state.extend(parameters.iter().map(|p| vec![0.0; p.values.len()]));
        return Ok(());
    }
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
