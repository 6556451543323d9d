//! A model initialized by name: a list of named tensors, one seed, and the shard each process
//! holds.
//!
//! Each tensor is filled with [`Initializer::fill_seeded`] under its own seed,
//! [`seed_for_name`]`(seed, name)`, so a tensor's values depend only on the model seed, its
//! name, shape and initializer: adding, removing or reordering other tensors changes nothing,
//! and any process can produce any shard of any tensor on its own, bit-identical to the same
//! elements of the whole. This is the one implementation behind both [`initialize_model`] and
//! the framework adapters (a backend asked for one named tensor calls
//! [`TensorSpec::initialize`]).

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use super::allocate::{element_count, fill_fresh_seeded, zeroed};
use super::element::Element;
use super::keyed::seed_for_name;
use super::pages::fill_fresh;
use super::shard::{Shard, fill_selection};
use super::{Initializer, InitializerFamily};
use crate::error::{Error, Result};
use crate::fans::Fans;

/// One tensor of a model: its name (the key of its random stream), shape and initializer.
///
/// The fans are computed from the shape with PyTorch's convention ([`Fans::from_shape`],
/// `[out, in, k...]`) unless set with [`TensorSpec::fans`]; a tensor of fewer than two
/// dimensions (a bias) needs them set, except for initializers whose values do not depend on
/// fans (the [`Constant`](InitializerFamily::Constant) and
/// [`FixedScale`](InitializerFamily::FixedScale) families, e.g. `Zeros` or `Uniform`).
///
/// ```
/// use std::sync::Arc;
/// use nninit::{Fans, HeUniform, Initializer, Nonlinearity, Uniform};
/// use nninit::init::{TensorSpec, seed_for_name};
///
/// // PyTorch's nn.Linear(784, 256) default: U(±1/sqrt(fan_in)) for weight and bias.
/// let linear = HeUniform::default().nonlinearity(Nonlinearity::LeakyRelu(5f64.sqrt()));
/// let weight = TensorSpec::<f32>::new("fc1.weight", [256, 784], Arc::new(linear));
/// let bound = 1.0 / 784f64.sqrt();
/// let bias = TensorSpec::<f32>::new("fc1.bias", [256], Arc::new(Uniform::new(-bound, bound)));
///
/// let w = weight.initialize(42)?;
/// let mut expected = vec![0.0f32; 256 * 784];
/// linear.fill_seeded(&mut expected, Fans::new(784, 256), seed_for_name(42, "fc1.weight"))?;
/// assert_eq!(w, expected);
/// assert!(bias.initialize(42)?.iter().all(|b| b.abs() <= bound as f32));
/// # Ok::<(), nninit::Error>(())
/// ```
pub struct TensorSpec<T> {
    name: String,
    shape: Vec<usize>,
    fans: Option<Fans>,
    initializer: Arc<dyn Initializer<T>>,
}

// By hand: a derive would require `T: Clone`, and only the `Arc` is cloned.
impl<T> Clone for TensorSpec<T> {
    fn clone(&self) -> Self {
        TensorSpec {
            name: self.name.clone(),
            shape: self.shape.clone(),
            fans: self.fans,
            initializer: Arc::clone(&self.initializer),
        }
    }
}

impl<T> fmt::Debug for TensorSpec<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TensorSpec")
            .field("name", &self.name)
            .field("shape", &self.shape)
            .field("fans", &self.fans)
            .field("initializer", &self.initializer)
            .finish()
    }
}

impl<T: Element> TensorSpec<T> {
    /// The tensor `name` of shape `shape`, filled by `initializer`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// let spec = nninit::init::TensorSpec::<f32>::new("w", [2, 3], Arc::new(nninit::Zeros));
    /// assert_eq!((spec.name(), spec.shape()), ("w", &[2, 3][..]));
    /// ```
    pub fn new(
        name: impl Into<String>,
        shape: impl Into<Vec<usize>>,
        initializer: Arc<dyn Initializer<T>>,
    ) -> TensorSpec<T> {
        TensorSpec {
            name: name.into(),
            shape: shape.into(),
            fans: None,
            initializer,
        }
    }

    /// Sets the fans the initializer sees, instead of those of the shape (e.g. a bias, or a
    /// layout other than PyTorch's).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use nninit::{Fans, HeUniform};
    /// let bias = nninit::init::TensorSpec::<f32>::new("b", [256], Arc::new(HeUniform::default()))
    ///     .fans(Fans::new(784, 256));
    /// assert_eq!(bias.resolved_fans()?, Fans::new(784, 256));
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn fans(mut self, fans: Fans) -> TensorSpec<T> {
        self.fans = Some(fans);
        self
    }

    /// The tensor's name.
    ///
    /// ```
    /// use std::sync::Arc;
    /// assert_eq!(nninit::init::TensorSpec::<f64>::new("w", [1, 1], Arc::new(nninit::Ones)).name(), "w");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The tensor's shape.
    ///
    /// ```
    /// use std::sync::Arc;
    /// let spec = nninit::init::TensorSpec::<f64>::new("w", [4, 5], Arc::new(nninit::Ones));
    /// assert_eq!(spec.shape(), &[4, 5]);
    /// ```
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The tensor's initializer.
    ///
    /// ```
    /// use std::sync::Arc;
    /// let spec = nninit::init::TensorSpec::<f32>::new("w", [4, 5], Arc::new(nninit::Ones));
    /// assert_eq!(spec.initializer().name(), "Ones");
    /// ```
    pub fn initializer(&self) -> &Arc<dyn Initializer<T>> {
        &self.initializer
    }

    /// The fans the initializer sees: those set with [`TensorSpec::fans`], else those of the
    /// shape; for fewer than two dimensions and an initializer that ignores fans, `[len]` is
    /// read as `[len, 1]`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use nninit::{Fans, GlorotUniform, Zeros};
    /// use nninit::init::TensorSpec;
    /// let conv = TensorSpec::<f32>::new("c", [32, 16, 3, 3], Arc::new(GlorotUniform::default()));
    /// assert_eq!(conv.resolved_fans()?, Fans::new(16 * 9, 32 * 9));
    /// let bias = TensorSpec::<f32>::new("b", [32], Arc::new(GlorotUniform::default()));
    /// assert!(bias.resolved_fans().is_err());
    /// assert!(TensorSpec::<f32>::new("b", [32], Arc::new(Zeros)).resolved_fans().is_ok());
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn resolved_fans(&self) -> Result<Fans> {
        if let Some(fans) = self.fans {
            return Ok(fans);
        }
        let ignores_fans = matches!(
            self.initializer.family(),
            InitializerFamily::Constant | InitializerFamily::FixedScale
        );
        if self.shape.len() < 2 && ignores_fans {
            let len = element_count(&self.shape)?;
            return Ok(Fans::new(1, len));
        }
        Fans::from_shape(&self.shape).map_err(|_| {
            Error::invalid(
                "fans",
                format!(
                    "set with TensorSpec::fans for tensor '{}' (PyTorch computes fans from a shape of at least 2 dimensions, without zeros)",
                    self.name
                ),
                format!("shape {:?}", self.shape),
            )
        })
    }

    /// The seed of this tensor's stream in a model initialized from `seed`:
    /// [`seed_for_name`]`(seed, name)`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use nninit::init::{TensorSpec, seed_for_name};
    /// let spec = TensorSpec::<f32>::new("fc.weight", [2, 2], Arc::new(nninit::Zeros));
    /// assert_eq!(spec.seed(9), seed_for_name(9, "fc.weight"));
    /// ```
    pub fn seed(&self, seed: u64) -> u64 {
        seed_for_name(seed, &self.name)
    }

    /// The whole tensor in a model initialized from `seed`, in a fresh buffer (allocated and
    /// first touched as [`allocate_initialized`](super::allocate_initialized) does).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use nninit::init::TensorSpec;
    /// let spec = TensorSpec::<f32>::new("w", [64, 32], Arc::new(nninit::GlorotNormal::default()));
    /// assert_eq!(spec.initialize(1)?, spec.initialize(1)?);
    /// assert_ne!(spec.initialize(1)?, spec.initialize(2)?);
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn initialize(&self, seed: u64) -> Result<Vec<T>> {
        self.initialize_shard(seed, &Shard::Whole)
    }

    /// The part `shard` of the tensor in a model initialized from `seed`, in a fresh buffer:
    /// exactly those elements of [`TensorSpec::initialize`]'s result, row-major.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use nninit::init::{Shard, TensorSpec};
    /// let spec = TensorSpec::<f32>::new("w", [6, 4], Arc::new(nninit::HeNormal::default()));
    /// let whole = spec.initialize(3)?;
    /// let columns = spec.initialize_shard(3, &Shard::Columns { part: 1, parts: 2 })?;
    /// for row in 0..6 {
    ///     assert_eq!(columns[row * 2..row * 2 + 2], whole[row * 4 + 2..row * 4 + 4]);
    /// }
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn initialize_shard(&self, seed: u64, shard: &Shard) -> Result<Vec<T>> {
        let selection = shard.select(&self.shape)?;
        let mut out = zeroed(selection.len(), || format!("tensor '{}'", self.name))?;
        if out.is_empty() {
            return Ok(out);
        }
        let fans = self.resolved_fans()?;
        let seed = self.seed(seed);
        let initializer = &*self.initializer;
        if selection.len() == element_count(&self.shape)? {
            // The whole tensor, as in `fill_shard`: initializers that fill only whole tensors
            // (`Orthogonal`) still can.
            fill_fresh_seeded(&mut out, initializer, fans, seed)?;
        } else if let Some(offset) = selection.contiguous_start() {
            fill_fresh(&mut out, 1, &mut |window, start| {
                initializer.fill_shard(window, fans, seed, offset + start)
            })?;
        } else {
            let segment = selection.segment.len();
            fill_fresh(&mut out, segment, &mut |window, start| {
                let rows = selection.row_subrange(start / segment, window.len() / segment);
                fill_selection(initializer, fans, seed, &rows, window)
            })?;
        }
        Ok(out)
    }

    /// Writes the part `shard` of the tensor in a model initialized from `seed` into `out`
    /// (which must hold exactly [`Shard::len`] elements), e.g. memory a framework owns.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use nninit::init::{Shard, TensorSpec};
    /// let spec = TensorSpec::<f64>::new("w", [10, 10], Arc::new(nninit::Uniform::new(-1, 1)));
    /// let mut rows = vec![0.0; 30];
    /// spec.fill_shard(5, &Shard::RowRange(2..5), &mut rows)?;
    /// assert_eq!(rows, spec.initialize(5)?[20..50]);
    /// assert!(spec.fill_shard(5, &Shard::RowRange(2..5), &mut [0.0; 29]).is_err());
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn fill_shard(&self, seed: u64, shard: &Shard, out: &mut [T]) -> Result<()> {
        let selection = shard.select(&self.shape)?;
        if out.len() != selection.len() {
            return Err(Error::LengthMismatch {
                what: format!("buffer for {shard:?} of tensor '{}'", self.name),
                expected: selection.len().to_string(),
                found: out.len(),
            });
        }
        if out.is_empty() {
            return Ok(());
        }
        let fans = self.resolved_fans()?;
        let seed = self.seed(seed);
        if selection.len() == element_count(&self.shape)? {
            // The whole tensor (`Whole`, or one part of one): not `fill_shard`, so that
            // initializers that cannot shard (`Orthogonal`) still fill whole tensors.
            return self.initializer.fill_seeded(out, fans, seed);
        }
        fill_selection(&*self.initializer, fans, seed, &selection, out)
    }
}

/// Every tensor of a model, initialized from one seed: one fresh buffer per spec, in order.
///
/// Tensor `name` holds what [`TensorSpec::initialize`] gives, whatever the other tensors are.
/// Names must be unique (two tensors of one name would share a stream).
///
/// ```
/// use std::sync::Arc;
/// use nninit::init::{TensorSpec, initialize_model};
/// use nninit::{GlorotUniform, Zeros};
///
/// let glorot = Arc::new(GlorotUniform::default());
/// let model = vec![
///     TensorSpec::<f32>::new("0.weight", [16, 8], glorot.clone()),
///     TensorSpec::new("0.bias", [16], Arc::new(Zeros)),
///     TensorSpec::new("1.weight", [4, 16], glorot),
/// ];
/// let tensors = initialize_model(&model, 7)?;
/// assert_eq!(tensors[2], model[2].initialize(7)?);
/// // Without the first layer, the last is the same.
/// assert_eq!(initialize_model(&model[2..], 7)?[0], tensors[2]);
/// # Ok::<(), nninit::Error>(())
/// ```
pub fn initialize_model<T: Element>(specs: &[TensorSpec<T>], seed: u64) -> Result<Vec<Vec<T>>> {
    initialize_model_shard(specs, seed, |_| Shard::Whole)
}

/// One shard of every tensor of a model: `shard_of(spec)` says which part of each tensor this
/// process holds. Each buffer equals the same elements of [`initialize_model`]'s, so
/// `world_size` processes each initialize only their part.
///
/// ```
/// use std::sync::Arc;
/// use nninit::init::{Shard, TensorSpec, initialize_model, initialize_model_shard};
/// use nninit::HeUniform;
///
/// let he = Arc::new(HeUniform::default());
/// let model = vec![
///     TensorSpec::<f32>::new("up.weight", [32, 8], he.clone()),   // column-parallel: rows
///     TensorSpec::new("down.weight", [8, 32], he),                // row-parallel: columns
/// ];
/// let whole = initialize_model(&model, 1)?;
/// let (rank, world) = (1, 2);
/// let mine = initialize_model_shard(&model, 1, |spec| match spec.name() {
///     "up.weight" => Shard::Rows { part: rank, parts: world },
///     _ => Shard::Columns { part: rank, parts: world },
/// })?;
/// assert_eq!(mine[0], whole[0][16 * 8..]);
/// assert_eq!(mine[1][..16], whole[1][16..32]);
/// # Ok::<(), nninit::Error>(())
/// ```
pub fn initialize_model_shard<T, F>(
    specs: &[TensorSpec<T>],
    seed: u64,
    mut shard_of: F,
) -> Result<Vec<Vec<T>>>
where
    T: Element,
    F: FnMut(&TensorSpec<T>) -> Shard,
{
    let mut names = HashSet::with_capacity(specs.len());
    if let Some(twice) = specs.iter().find(|spec| !names.insert(spec.name())) {
        return Err(Error::invalid(
            "tensor names",
            "unique",
            format!("'{}' twice", twice.name()),
        ));
    }
    specs
        .iter()
        .map(|spec| spec.initialize_shard(seed, &shard_of(spec)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::init::{GlorotUniform, HeNormal, Orthogonal, Zeros};

    fn spec(name: &str, shape: &[usize]) -> TensorSpec<f32> {
        TensorSpec::new(name, shape, Arc::new(GlorotUniform::default()))
    }

    #[test]
    fn order_and_neighbours_do_not_matter() {
        let a = spec("a", &[8, 4]);
        let b = spec("b", &[3, 5]);
        let forward = initialize_model(&[a.clone(), b.clone()], 3).unwrap();
        let backward = initialize_model(&[b, a], 3).unwrap();
        assert_eq!(forward[0], backward[1]);
        assert_eq!(forward[1], backward[0]);
        assert_ne!(forward[0][..15], forward[1][..]);
    }

    #[test]
    fn duplicate_names_are_refused() {
        let error = initialize_model(&[spec("w", &[2, 2]), spec("w", &[3, 3])], 0).unwrap_err();
        assert_eq!(
            error.to_string(),
            "tensor names must be unique, got 'w' twice"
        );
    }

    #[test]
    fn fans_errors_name_the_tensor() {
        let error = spec("bias", &[8]).initialize(0).unwrap_err().to_string();
        assert!(
            error.contains("tensor 'bias'") && error.contains("[8]"),
            "{error}"
        );
        assert!(spec("w", &[0, 8]).initialize(0).unwrap().is_empty());
    }

    #[test]
    fn orthogonal_whole_but_not_sharded() {
        let q = TensorSpec::<f64>::new("q", [4, 4], Arc::new(Orthogonal::default()));
        assert_eq!(q.initialize(1).unwrap().len(), 16);
        assert!(q.initialize_shard(1, &Shard::RowRange(0..2)).is_err());
        let one_part = Shard::Columns { part: 0, parts: 1 };
        assert_eq!(
            q.initialize_shard(1, &one_part).unwrap(),
            q.initialize(1).unwrap()
        );
    }

    /// `shard`'s elements of the row-major `whole` of `columns` columns, as `initialize_shard`
    /// returns them.
    fn elements_of(whole: &[f32], columns: usize, shard: &Shard) -> Vec<f32> {
        let rows = whole.len() / columns;
        let selection = shard.select(&[rows, columns]).unwrap();
        selection
            .rows
            .flat_map(|r| {
                let row = r * selection.row_length;
                whole[row + selection.segment.start..row + selection.segment.end].to_vec()
            })
            .collect()
    }

    #[test]
    fn fresh_buffers_equal_fills_of_given_memory() {
        // Several windows of `pages::fill_fresh` (16 MiB) per shard, rows of 2050 `f32` that
        // no window size divides, each way of choosing pages forced, one and two threads.
        let (rows, columns) = (8192, 2050);
        let normal = TensorSpec::<f32>::new("w", [rows, columns], Arc::new(HeNormal::default()));
        let mut whole = vec![0.0f32; rows * columns];
        normal.fill_shard(9, &Shard::Whole, &mut whole).unwrap();
        let shards = [
            Shard::Whole,
            Shard::Rows { part: 1, parts: 2 },
            Shard::Columns { part: 1, parts: 2 },
            Shard::ColumnRange(3..2001),
            Shard::ElementRange(12_345..(rows * columns - 6789)),
        ];
        for choice in crate::init::pages::tests::FORCED_CHOICES {
            for threads in [1, 2] {
                for shard in &shards {
                    crate::set_num_threads(threads);
                    let got = crate::init::pages::tests::with_forced_pages(choice, || {
                        normal.initialize_shard(9, shard).unwrap()
                    });
                    crate::set_num_threads(0);
                    assert!(
                        got == elements_of(&whole, columns, shard),
                        "{shard:?}, {threads} threads, pages {choice:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn zero_bias_without_fans() {
        let bias = TensorSpec::<f64>::new("b", [5], Arc::new(Zeros));
        assert_eq!(bias.initialize(0).unwrap(), vec![0.0; 5]);
        assert_eq!(
            bias.initialize_shard(0, &Shard::Rows { part: 1, parts: 2 })
                .unwrap(),
            vec![0.0; 2]
        );
    }
}
