//! Matching a loaded state dict against the tensors a network expects.
//!
//! A network names its parameters `"{i}.weight"` (shape `[out, in]`) and `"{i}.bias"` (shape
//! `[out]`), `i` counting dense layers. Files from elsewhere name them differently: a PyTorch
//! `nn.Sequential(Linear, ReLU, Linear)` numbers the activations too (`0.weight`, `2.weight`),
//! and a wrapped model prefixes everything (`model.0.weight`). [`LoadOptions`] maps the file's
//! keys onto the network's; [`match_state_dict`] then checks every key and shape, like
//! PyTorch's `load_state_dict`: strict by default, reporting every problem at once.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use super::limits::ReadLimits;
use super::tensor::Tensor;
use crate::error::{Error, Result};

/// A user-supplied key mapping: the network key for a file key, or `None` to skip the tensor.
type KeyFn = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// One stage of the key-mapping pipeline.
#[derive(Clone)]
enum KeyMap {
    /// Removes a prefix from the keys that have it; other keys pass unchanged.
    StripPrefix(String),
    /// Renames one key.
    Rename(String, String),
    /// Replaces the leading index `indices[k]` by `k`.
    SequentialIndices(Vec<usize>),
    /// Replaces the sorted distinct leading indices by 0, 1, 2, ...
    Renumber,
    /// Arbitrary: the closure's answer, `None` skipping the tensor.
    Closure(KeyFn),
}

impl fmt::Debug for KeyMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyMap::StripPrefix(p) => write!(f, "StripPrefix({p:?})"),
            KeyMap::Rename(from, to) => write!(f, "Rename({from:?} -> {to:?})"),
            KeyMap::SequentialIndices(i) => write!(f, "SequentialIndices({i:?})"),
            KeyMap::Renumber => f.write_str("Renumber"),
            KeyMap::Closure(_) => f.write_str("Closure(..)"),
        }
    }
}

/// How to load a state dict: strictness and how file keys map onto network keys.
///
/// The key maps run in the order they were added, each on the output of the previous one.
/// The default is strict with no mapping (keys must be exactly `"{i}.weight"` / `"{i}.bias"`).
///
/// ```
/// use nninit::io::LoadOptions;
/// // A PyTorch `nn.Sequential(Linear, Tanh, Linear, Sigmoid)` saved inside a wrapper module:
/// // `model.0.weight`, `model.2.weight` -> `0.weight`, `1.weight`.
/// let options = LoadOptions::default().strip_prefix("model.").sequential_indices(&[0, 2]);
/// assert_eq!(options.map_key("model.2.bias").as_deref(), Some("1.bias"));
/// assert!(options.is_strict());
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct LoadOptions {
    strict: bool,
    key_maps: Vec<KeyMap>,
    limits: ReadLimits,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            strict: true,
            key_maps: Vec::new(),
            limits: ReadLimits::default(),
        }
    }
}

impl LoadOptions {
    /// Strict (the default): any missing, unexpected or misshapen tensor fails the whole
    /// load with one [`Error::StateDict`] listing them all. Non-strict: the matching tensors
    /// load and a [`LoadReport`] lists the rest.
    ///
    /// ```
    /// assert!(!nninit::io::LoadOptions::default().strict(false).is_strict());
    /// ```
    pub fn strict(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }

    /// The memory budget of the file read by
    /// [`Network::load_safetensors_with`](crate::Network::load_safetensors_with) and
    /// [`Network::load_npz_with`](crate::Network::load_npz_with) (default:
    /// [`ReadLimits::default`]).
    ///
    /// ```
    /// use nninit::io::{LoadOptions, ReadLimits};
    /// let options = LoadOptions::default().read_limits(ReadLimits::default().max_bytes(1 << 20));
    /// assert_eq!(options.limits().max_bytes, 1 << 20);
    /// ```
    pub fn read_limits(mut self, limits: ReadLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The memory budget of the file read.
    ///
    /// ```
    /// let options = nninit::io::LoadOptions::default();
    /// assert_eq!(options.limits().max_bytes, nninit::io::DEFAULT_MAX_BYTES);
    /// ```
    pub fn limits(&self) -> &ReadLimits {
        &self.limits
    }

    /// Whether the load is strict.
    ///
    /// ```
    /// assert!(nninit::io::LoadOptions::default().is_strict());
    /// ```
    pub fn is_strict(&self) -> bool {
        self.strict
    }

    /// Removes `prefix` from every key that starts with it (keys without it are kept), like
    /// PyTorch's `consume_prefix_in_state_dict_if_present`.
    ///
    /// ```
    /// let options = nninit::io::LoadOptions::default().strip_prefix("module.");
    /// assert_eq!(options.map_key("module.0.weight").as_deref(), Some("0.weight"));
    /// assert_eq!(options.map_key("0.bias").as_deref(), Some("0.bias"));
    /// ```
    pub fn strip_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.key_maps.push(KeyMap::StripPrefix(prefix.into()));
        self
    }

    /// Renames the key `from` to `to` (e.g. `"fc1.weight"` to `"0.weight"`).
    ///
    /// ```
    /// let options = nninit::io::LoadOptions::default()
    ///     .rename("fc1.weight", "0.weight")
    ///     .rename("fc1.bias", "0.bias");
    /// assert_eq!(options.map_key("fc1.bias").as_deref(), Some("0.bias"));
    /// ```
    pub fn rename(mut self, from: impl Into<String>, to: impl Into<String>) -> Self {
        self.key_maps.push(KeyMap::Rename(from.into(), to.into()));
        self
    }

    /// For a PyTorch `nn.Sequential` whose activations take indices: the module at index
    /// `indices[k]` is dense layer `k`. Keys with another leading index pass unchanged.
    ///
    /// ```
    /// // nn.Sequential(Linear, ReLU, Linear, ReLU, Linear): Linears at 0, 2, 4.
    /// let options = nninit::io::LoadOptions::default().sequential_indices(&[0, 2, 4]);
    /// assert_eq!(options.map_key("4.weight").as_deref(), Some("2.weight"));
    /// ```
    pub fn sequential_indices(mut self, indices: &[usize]) -> Self {
        self.key_maps
            .push(KeyMap::SequentialIndices(indices.to_vec()));
        self
    }

    /// Renumbers the distinct leading indices found in the file, in increasing order, as 0, 1,
    /// 2, ...: `0.*, 2.*, 4.*` become `0.*, 1.*, 2.*`. Right for any `nn.Sequential` whose only
    /// parameterized modules are its `Linear`s.
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use nninit::io::{LoadOptions, Tensor, match_state_dict};
    /// let file = BTreeMap::from([
    ///     ("0.weight".to_string(), Tensor::new(vec![1, 1], vec![2.0])?),
    ///     ("0.bias".to_string(), Tensor::new(vec![1], vec![0.5])?),
    ///     ("2.weight".to_string(), Tensor::new(vec![1, 1], vec![3.0])?),
    ///     ("2.bias".to_string(), Tensor::new(vec![1], vec![0.0])?),
    /// ]);
    /// let expected = [
    ///     ("0.weight".to_string(), vec![1, 1]), ("0.bias".to_string(), vec![1]),
    ///     ("1.weight".to_string(), vec![1, 1]), ("1.bias".to_string(), vec![1]),
    /// ];
    /// let (tensors, _) = match_state_dict(&expected, file, &LoadOptions::default().renumber_sequential())?;
    /// assert_eq!(tensors["1.weight"].data, [3.0]);
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn renumber_sequential(mut self) -> Self {
        self.key_maps.push(KeyMap::Renumber);
        self
    }

    /// Maps keys with a closure: `Some(network key)`, or `None` to skip the tensor on purpose
    /// (a skipped tensor is listed in [`LoadReport::skipped`], never as unexpected).
    ///
    /// ```
    /// let options = nninit::io::LoadOptions::default().map_keys(|key| {
    ///     if key.starts_with("optimizer.") { None } else { Some(key.replace("layer", "")) }
    /// });
    /// assert_eq!(options.map_key("layer3.bias").as_deref(), Some("3.bias"));
    /// assert_eq!(options.map_key("optimizer.step"), None);
    /// ```
    pub fn map_keys(
        mut self,
        map: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.key_maps.push(KeyMap::Closure(Arc::new(map)));
        self
    }

    /// The network key for one file key (`None`: skipped). [`renumber_sequential`] needs the
    /// whole file to decide, so here it sees only this key and maps its index to 0.
    ///
    /// [`renumber_sequential`]: LoadOptions::renumber_sequential
    ///
    /// ```
    /// let options = nninit::io::LoadOptions::default().strip_prefix("model.");
    /// assert_eq!(options.map_key("model.1.weight").as_deref(), Some("1.weight"));
    /// ```
    pub fn map_key(&self, key: &str) -> Option<String> {
        let mut keys = vec![Some(key.to_string())];
        for stage in &self.key_maps {
            apply(stage, &mut keys);
        }
        keys.pop().flatten()
    }

    /// Maps all file keys; `None` marks a skipped tensor.
    fn map_all(&self, keys: &[String]) -> Vec<Option<String>> {
        let mut mapped: Vec<Option<String>> = keys.iter().cloned().map(Some).collect();
        for stage in &self.key_maps {
            apply(stage, &mut mapped);
        }
        mapped
    }
}

/// Applies one mapping stage to every still-mapped key.
fn apply(stage: &KeyMap, keys: &mut [Option<String>]) {
    if let KeyMap::Renumber = stage {
        let distinct: BTreeSet<usize> = keys
            .iter()
            .flatten()
            .filter_map(|k| split_index(k).map(|(i, _)| i))
            .collect();
        let order: Vec<usize> = distinct.into_iter().collect();
        return apply(&KeyMap::SequentialIndices(order), keys);
    }
    for slot in keys.iter_mut() {
        let Some(key) = slot.take() else { continue };
        *slot = match stage {
            KeyMap::StripPrefix(prefix) => Some(
                key.strip_prefix(prefix.as_str())
                    .unwrap_or(&key)
                    .to_string(),
            ),
            KeyMap::Rename(from, to) => Some(if key == *from { to.clone() } else { key }),
            KeyMap::SequentialIndices(indices) => Some(reindex(&key, indices)),
            KeyMap::Closure(map) => map(&key),
            KeyMap::Renumber => Some(key),
        };
    }
}

/// `"{indices[k]}.rest"` becomes `"{k}.rest"`; other keys are returned unchanged.
fn reindex(key: &str, indices: &[usize]) -> String {
    match split_index(key) {
        Some((index, rest)) => match indices.iter().position(|&i| i == index) {
            Some(k) => format!("{k}.{rest}"),
            None => key.to_string(),
        },
        None => key.to_string(),
    }
}

/// Splits `"12.weight"` into `(12, "weight")`; `None` without a numeric leading component.
fn split_index(key: &str) -> Option<(usize, &str)> {
    let (head, rest) = key.split_once('.')?;
    if head.is_empty() || !head.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((head.parse().ok()?, rest))
}

/// What a non-strict load did not load, and what it did.
///
/// ```
/// use std::collections::BTreeMap;
/// use nninit::io::{LoadOptions, Tensor, match_state_dict};
/// let file = BTreeMap::from([("0.weight".to_string(), Tensor::new(vec![2, 2], vec![0.0; 4])?)]);
/// let expected = [("0.weight".to_string(), vec![2, 2]), ("0.bias".to_string(), vec![2])];
/// let (_, report) = match_state_dict(&expected, file, &LoadOptions::default().strict(false))?;
/// assert_eq!(report.missing, ["0.bias"]);
/// assert!(!report.is_complete());
/// assert_eq!(report.to_string(), "loaded 1 tensor (0.weight); missing keys: 0.bias");
/// # Ok::<(), nninit::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct LoadReport {
    /// Network keys that were loaded.
    pub loaded: Vec<String>,
    /// Network keys the file did not provide.
    pub missing: Vec<String>,
    /// File keys the network does not use (as `"file key -> mapped key"` when a key map
    /// changed them).
    pub unexpected: Vec<String>,
    /// Keys found with the wrong shape: (network key, shape in the file, shape expected).
    pub mismatched: Vec<(String, Vec<usize>, Vec<usize>)>,
    /// File keys a [`LoadOptions::map_keys`] closure chose to skip, and (in a non-strict
    /// network load) tensors of a dtype that does not convert to `f32`, as
    /// `"name (unsupported dtype C64)"`.
    pub skipped: Vec<String>,
}

impl LoadReport {
    /// Whether every expected tensor loaded and nothing unexpected was found (skipped
    /// tensors do not count: skipping was asked for).
    ///
    /// ```
    /// assert!(nninit::io::LoadReport::default().is_complete());
    /// ```
    pub fn is_complete(&self) -> bool {
        self.missing.is_empty() && self.unexpected.is_empty() && self.mismatched.is_empty()
    }
}

impl fmt::Display for LoadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = if self.loaded.len() == 1 { "" } else { "s" };
        write!(
            f,
            "loaded {} tensor{plural} ({})",
            self.loaded.len(),
            self.loaded.join(", ")
        )?;
        if !self.missing.is_empty() {
            write!(f, "; missing keys: {}", self.missing.join(", "))?;
        }
        if !self.unexpected.is_empty() {
            write!(f, "; unexpected keys: {}", self.unexpected.join(", "))?;
        }
        for (key, found, expected) in &self.mismatched {
            write!(
                f,
                "; tensor '{key}' has shape {found:?}, layer expects {expected:?}"
            )?;
        }
        if !self.skipped.is_empty() {
            write!(f, "; skipped: {}", self.skipped.join(", "))?;
        }
        Ok(())
    }
}

/// Maps the keys of `loaded` with `options` and matches them against `expected`
/// (`(network key, shape)` pairs, e.g. `("0.weight", [out, in])`).
///
/// Returns the tensors to load, keyed by network key, and a report. In strict mode any
/// missing, unexpected or misshapen tensor is one [`Error::StateDict`] listing every problem;
/// in non-strict mode those are only reported. Two file keys mapped onto the same network
/// key are an [`Error::InvalidArgument`] in either mode (the mapping is ambiguous), and so is
/// a tensor whose data length disagrees with its own shape.
///
/// ```
/// use std::collections::BTreeMap;
/// use nninit::io::{LoadOptions, Tensor, match_state_dict};
/// let file = BTreeMap::from([
///     ("0.weight".to_string(), Tensor::new(vec![2, 3], vec![0.0; 6])?),
///     ("0.bias".to_string(), Tensor::new(vec![2], vec![0.0; 2])?),
///     ("extra".to_string(), Tensor::new(vec![1], vec![0.0])?),
/// ]);
/// let expected = [("0.weight".to_string(), vec![2, 4]), ("0.bias".to_string(), vec![2])];
/// let err = match_state_dict(&expected, file, &LoadOptions::default()).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "state dict does not match the network: unexpected keys: extra; \
///      tensor '0.weight' has shape [2, 3], layer expects [2, 4]"
/// );
/// # Ok::<(), nninit::Error>(())
/// ```
pub fn match_state_dict(
    expected: &[(String, Vec<usize>)],
    loaded: BTreeMap<String, Tensor>,
    options: &LoadOptions,
) -> Result<(BTreeMap<String, Tensor>, LoadReport)> {
    let file_keys: Vec<String> = loaded.keys().cloned().collect();
    let mapped = options.map_all(&file_keys);
    let mut report = LoadReport::default();
    // Network key -> (file key, tensor).
    let mut by_network_key: BTreeMap<String, (String, Tensor)> = BTreeMap::new();
    for ((file_key, tensor), network_key) in loaded.into_iter().zip(mapped) {
        let Some(network_key) = network_key else {
            report.skipped.push(file_key);
            continue;
        };
        tensor.check(&format!("tensor '{file_key}'"))?;
        if let Some((other, _)) = by_network_key.get(&network_key) {
            return Err(Error::invalid(
                "key map",
                "a one-to-one mapping of file keys",
                format!("'{other}' and '{file_key}' both map to '{network_key}'"),
            ));
        }
        by_network_key.insert(network_key, (file_key, tensor));
    }
    let mut matched = BTreeMap::new();
    for (key, shape) in expected {
        match by_network_key.remove(key) {
            None => report.missing.push(key.clone()),
            Some((_, tensor)) if tensor.shape != *shape => {
                report
                    .mismatched
                    .push((key.clone(), tensor.shape, shape.clone()));
            }
            Some((_, tensor)) => {
                report.loaded.push(key.clone());
                matched.insert(key.clone(), tensor);
            }
        }
    }
    report.unexpected = by_network_key
        .into_iter()
        .map(|(network_key, (file_key, _))| {
            if network_key == file_key {
                file_key
            } else {
                format!("{file_key} -> {network_key}")
            }
        })
        .collect();
    if options.strict && !report.is_complete() {
        // A single misshapen tensor is a plain shape mismatch, which says it most directly.
        if report.missing.is_empty() && report.unexpected.is_empty() && report.mismatched.len() == 1
        {
            let (key, found, expected) = report.mismatched.remove(0);
            return Err(Error::ShapeMismatch {
                what: format!("tensor '{key}'"),
                expected_by: "layer".into(),
                expected,
                found,
            });
        }
        return Err(Error::StateDict {
            missing: report.missing,
            unexpected: report.unexpected,
            mismatched: report.mismatched,
        });
    }
    Ok((matched, report))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tensor(shape: &[usize]) -> Tensor {
        let n = shape.iter().product();
        Tensor::new(shape.to_vec(), (0..n).map(|v| v as f32).collect()).unwrap()
    }

    fn mlp_expected() -> Vec<(String, Vec<usize>)> {
        vec![
            ("0.weight".into(), vec![4, 2]),
            ("0.bias".into(), vec![4]),
            ("1.weight".into(), vec![1, 4]),
            ("1.bias".into(), vec![1]),
        ]
    }

    fn pytorch_sequential(prefix: &str) -> BTreeMap<String, Tensor> {
        BTreeMap::from([
            (format!("{prefix}0.weight"), tensor(&[4, 2])),
            (format!("{prefix}0.bias"), tensor(&[4])),
            (format!("{prefix}2.weight"), tensor(&[1, 4])),
            (format!("{prefix}2.bias"), tensor(&[1])),
        ])
    }

    #[test]
    fn exact_keys_load_strictly() {
        let file = BTreeMap::from([
            ("0.weight".to_string(), tensor(&[4, 2])),
            ("0.bias".to_string(), tensor(&[4])),
            ("1.weight".to_string(), tensor(&[1, 4])),
            ("1.bias".to_string(), tensor(&[1])),
        ]);
        let (tensors, report) =
            match_state_dict(&mlp_expected(), file.clone(), &LoadOptions::default()).unwrap();
        assert_eq!(tensors, file);
        assert!(report.is_complete());
        assert_eq!(report.loaded.len(), 4);
    }

    #[test]
    fn strict_lists_every_problem_in_one_error() {
        let err = match_state_dict(
            &mlp_expected(),
            pytorch_sequential(""),
            &LoadOptions::default(),
        )
        .unwrap_err();
        let Error::StateDict {
            missing,
            unexpected,
            mismatched,
        } = &err
        else {
            panic!("{err}")
        };
        assert_eq!(missing, &["1.weight", "1.bias"]);
        assert_eq!(unexpected, &["2.bias", "2.weight"]);
        assert!(mismatched.is_empty());
        assert_eq!(
            err.to_string(),
            "state dict does not match the network: missing keys: 1.weight, 1.bias; \
             unexpected keys: 2.bias, 2.weight"
        );
    }

    #[test]
    fn sequential_mappings_load_pytorch_layouts() {
        for options in [
            LoadOptions::default().sequential_indices(&[0, 2]),
            LoadOptions::default().renumber_sequential(),
        ] {
            let (tensors, report) =
                match_state_dict(&mlp_expected(), pytorch_sequential(""), &options).unwrap();
            assert!(report.is_complete(), "{report}");
            assert_eq!(tensors["1.weight"], tensor(&[1, 4]));
        }
        let options = LoadOptions::default()
            .strip_prefix("model.")
            .renumber_sequential();
        let (tensors, _) =
            match_state_dict(&mlp_expected(), pytorch_sequential("model."), &options).unwrap();
        assert_eq!(tensors.len(), 4);
    }

    #[test]
    fn non_strict_loads_what_matches_and_reports_the_rest() {
        let mut file = pytorch_sequential("");
        file.insert("0.weight".into(), tensor(&[4, 3]));
        file.insert("num_batches_tracked".into(), tensor(&[]));
        let options = LoadOptions::default()
            .strict(false)
            .sequential_indices(&[0, 2]);
        let (tensors, report) = match_state_dict(&mlp_expected(), file, &options).unwrap();
        assert_eq!(
            tensors.keys().collect::<Vec<_>>(),
            ["0.bias", "1.bias", "1.weight"]
        );
        assert_eq!(
            report.mismatched,
            [("0.weight".into(), vec![4, 3], vec![4, 2])]
        );
        assert_eq!(report.unexpected, ["num_batches_tracked"]);
        assert!(report.missing.is_empty());
        assert_eq!(
            report.to_string(),
            "loaded 3 tensors (0.bias, 1.weight, 1.bias); unexpected keys: \
             num_batches_tracked; tensor '0.weight' has shape [4, 3], layer expects [4, 2]"
        );
    }

    #[test]
    fn closure_can_skip_and_unexpected_shows_mapping() {
        let mut file = pytorch_sequential("");
        file.insert("5.weight".into(), tensor(&[1]));
        file.insert("optimizer.lr".into(), tensor(&[]));
        let options = LoadOptions::default()
            .strict(false)
            .map_keys(|k| (!k.starts_with("optimizer.")).then(|| k.to_string()))
            .renumber_sequential();
        let (_, report) = match_state_dict(&mlp_expected(), file, &options).unwrap();
        assert_eq!(report.skipped, ["optimizer.lr"]);
        assert_eq!(report.unexpected, ["5.weight -> 2.weight"]);
    }

    #[test]
    fn colliding_keys_are_an_error() {
        let file = BTreeMap::from([
            ("a.0.bias".to_string(), tensor(&[4])),
            ("b.0.bias".to_string(), tensor(&[4])),
        ]);
        let options = LoadOptions::default().map_keys(|k| Some(k[2..].to_string()));
        let err = match_state_dict(&mlp_expected(), file, &options).unwrap_err();
        assert!(
            err.to_string()
                .contains("'a.0.bias' and 'b.0.bias' both map to '0.bias'")
        );
    }

    #[test]
    fn split_index_needs_a_numeric_head() {
        assert_eq!(split_index("12.weight"), Some((12, "weight")));
        assert_eq!(split_index("fc.weight"), None);
        assert_eq!(split_index("weight"), None);
        assert_eq!(split_index(".weight"), None);
        assert_eq!(split_index("99999999999999999999999.w"), None);
    }
}
