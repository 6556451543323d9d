//! The default initialization of each major framework's dense layer, so that a model ported
//! from one of them starts from the same distribution.
//!
//! | framework | layer | weight | bias |
//! |---|---|---|---|
//! | PyTorch | `nn.Linear` | `kaiming_uniform_(a = √5)` = `U(±1/√fan_in)` | `U(±1/√fan_in)` |
//! | Keras | `Dense` | `glorot_uniform` = `U(±√(6 / (fan_in + fan_out)))` | zeros |
//! | Flax | `nn.Dense` | `lecun_normal` = truncated normal, variance `1 / fan_in` | zeros |
//! | candle | `candle_nn::linear` | `DEFAULT_KAIMING_NORMAL` = `N(0, 2 / fan_in)` | `U(±1/√fan_in)` |
//! | burn | `LinearConfig` | `KaimingUniform { gain: 1/√3 }` = `U(±1/√fan_in)` | same as the weight |
//!
//! Sources: `torch/nn/modules/linear.py` (`reset_parameters`), `keras/src/layers/core/dense.py`,
//! `flax/linen/linear.py` (`default_kernel_init`), `candle-nn/src/linear.rs` and `init.rs`,
//! `burn-nn/src/modules/linear.rs` (the `initializer` default of `LinearConfig`, which burn
//! also applies to the bias with `fan_in = d_input`).

use super::element::Element;
use super::{GlorotUniform, HeNormal, HeUniform, Initializer, LecunNormal, Zeros};
use crate::gain::Nonlinearity;

/// A deep-learning framework whose dense-layer defaults nninit reproduces.
///
/// ```
/// use nninit::{Fans, Framework, Initializer};
/// let mut w = vec![0.0f32; 16 * 64];
/// Framework::PyTorch.weight_initializer().fill_seeded(&mut w, Fans::new(64, 16), 0)?;
/// assert!(w.iter().all(|x| x.abs() <= 1.0 / 8.0)); // U(±1/√64)
/// # Ok::<(), nninit::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Framework {
    /// PyTorch `nn.Linear`: weight and bias `U(±1/√fan_in)`.
    PyTorch,
    /// Keras `Dense`: Glorot uniform weight, zero bias.
    Keras,
    /// Flax `nn.Dense`: LeCun normal (truncated) weight, zero bias.
    Flax,
    /// candle-nn `linear`: He normal weight `N(0, 2 / fan_in)`, bias `U(±1/√fan_in)`.
    Candle,
    /// burn `Linear`: weight and bias `U(±1/√fan_in)`.
    Burn,
}

impl Framework {
    /// Every framework, in declaration order.
    ///
    /// ```
    /// assert_eq!(nninit::Framework::ALL.len(), 5);
    /// ```
    pub const ALL: [Framework; 5] = [
        Framework::PyTorch,
        Framework::Keras,
        Framework::Flax,
        Framework::Candle,
        Framework::Burn,
    ];

    /// The framework's name, e.g. `"pytorch"`.
    ///
    /// ```
    /// assert_eq!(nninit::Framework::Flax.name(), "flax");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Framework::PyTorch => "pytorch",
            Framework::Keras => "keras",
            Framework::Flax => "flax",
            Framework::Candle => "candle",
            Framework::Burn => "burn",
        }
    }

    /// The initializer of a dense layer's `[out, in]` weight, called with the layer's fans.
    ///
    /// ```
    /// use nninit::{Framework, Initializer, InitializerFamily};
    /// assert_eq!(Framework::Keras.weight_initializer::<f32>().family(), InitializerFamily::Glorot);
    /// assert_eq!(Framework::Flax.weight_initializer::<f64>().family(), InitializerFamily::Lecun);
    /// ```
    pub fn weight_initializer<T: Element>(self) -> Box<dyn Initializer<T>> {
        match self {
            Framework::PyTorch | Framework::Burn => Box::new(inverse_sqrt_fan_in_uniform()),
            Framework::Keras => Box::new(GlorotUniform::new()),
            Framework::Flax => Box::new(LecunNormal),
            Framework::Candle => Box::new(HeNormal::new()),
        }
    }

    /// The initializer of a dense layer's bias, called with the layer's fans (the bound
    /// `1/√fan_in` of PyTorch, candle and burn is the weight's fan-in).
    ///
    /// ```
    /// use nninit::{Fans, Framework, Initializer};
    /// let mut bias = vec![1.0f32; 8];
    /// Framework::Keras.bias_initializer().fill_seeded(&mut bias, Fans::new(4, 8), 0)?;
    /// assert_eq!(bias, [0.0; 8]);
    /// Framework::Candle.bias_initializer().fill_seeded(&mut bias, Fans::new(4, 8), 0)?;
    /// assert!(bias.iter().all(|b| b.abs() <= 0.5) && bias.iter().any(|&b| b != 0.0));
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn bias_initializer<T: Element>(self) -> Box<dyn Initializer<T>> {
        match self {
            Framework::PyTorch | Framework::Candle | Framework::Burn => {
                Box::new(inverse_sqrt_fan_in_uniform())
            }
            Framework::Keras | Framework::Flax => Box::new(Zeros),
        }
    }
}

impl std::fmt::Display for Framework {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// PyTorch's `kaiming_uniform_(a = √5)`: gain `√(2 / (1 + 5))`, so the bound
/// `gain · √(3 / fan_in)` is `1/√fan_in` (burn's `gain = 1/√3` is the same number).
fn inverse_sqrt_fan_in_uniform() -> HeUniform {
    HeUniform::new().nonlinearity(Nonlinearity::LeakyRelu(5f64.sqrt()))
}
