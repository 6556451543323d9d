//! Shards: the part of a tensor one process initializes when a model is split.
//!
//! Seeded fills are counter-based (element `j` depends only on the seed and `j`), so any part
//! of a tensor can be produced on its own, bit-identical to the same elements of the whole.
//! Tensor parallelism splits a weight along its rows or its columns; a column shard is
//! strided (each row contributes one contiguous segment), so it is filled row by row with
//! [`Initializer::fill_shard`] at each segment's offset in the whole tensor, the rows spread
//! over the configured threads.

use std::ops::Range;

use super::Initializer;
use super::allocate::element_count;
use super::element::Element;
use crate::error::{Error, Result};
use crate::fans::Fans;

/// Segments at least this long are filled one after the other, each by all threads
/// ([`Initializer::fill_shard`] splits long ranges itself); shorter ones, a whole row each,
/// are spread over the threads.
const LONG_SEGMENT: usize = 1 << 16;
/// Elements per unit of work when rows are spread over threads (1 MiB of `f32`): small enough
/// for the threads to balance on a shared machine, large enough to amortize the queue.
const ROWS_WORK: usize = 1 << 18;

/// Which part of a tensor to initialize.
///
/// Rows are dimension 0 and columns dimension 1 of the tensor's shape, the other dimensions
/// kept whole (for a PyTorch `[out, in]` weight: output and input features). In Megatron-LM's
/// terms, a column-parallel linear layer splits its weight by [`Rows`](Shard::Rows) (output
/// features) and a row-parallel one by [`Columns`](Shard::Columns) (input features); a
/// vocabulary-parallel embedding `[vocab, hidden]` splits by rows.
///
/// `Rows { part, parts }` and `Columns { part, parts }` split as `torch.tensor_split` and
/// `numpy.array_split` do: `n` rows in `parts` parts of `n / parts` rows, the first `n % parts`
/// parts one row longer, so every split covers the tensor exactly once.
///
/// ```
/// use nninit::init::Shard;
/// // 10 rows in 3 parts: 4, 3, 3.
/// assert_eq!(Shard::Rows { part: 0, parts: 3 }.shape(&[10, 6])?, vec![4, 6]);
/// assert_eq!(Shard::Rows { part: 2, parts: 3 }.shape(&[10, 6])?, vec![3, 6]);
/// assert_eq!(Shard::Columns { part: 1, parts: 2 }.shape(&[10, 6])?, vec![10, 3]);
/// assert_eq!(Shard::ElementRange(5..9).shape(&[10, 6])?, vec![4]);
/// # Ok::<(), nninit::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Shard {
    /// The whole tensor.
    #[default]
    Whole,
    /// Part `part` (from 0) of `parts` near-equal blocks of rows (dimension 0).
    Rows {
        /// Which part, `0 .. parts` (e.g. the tensor-parallel rank).
        part: usize,
        /// How many parts (e.g. the tensor-parallel world size), at least 1.
        parts: usize,
    },
    /// Part `part` (from 0) of `parts` near-equal blocks of columns (dimension 1).
    Columns {
        /// Which part, `0 .. parts`.
        part: usize,
        /// How many parts, at least 1.
        parts: usize,
    },
    /// The rows (dimension 0) in the range.
    RowRange(Range<usize>),
    /// The columns (dimension 1) in the range.
    ColumnRange(Range<usize>),
    /// The elements in the range of the row-major (flattened) tensor.
    ElementRange(Range<usize>),
}

/// A shard resolved against a shape: `rows` of a row-major `[row count, row_length]` view,
/// and in each of them the elements `segment`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Selection {
    pub(crate) rows: Range<usize>,
    pub(crate) row_length: usize,
    pub(crate) segment: Range<usize>,
}

impl Selection {
    /// Number of elements selected.
    pub(crate) fn len(&self) -> usize {
        self.rows.len() * self.segment.len()
    }

    /// The `count` selected rows from the `first` selected row on: the elements
    /// `first * segment .. (first + count) * segment` of the selection, as a selection.
    pub(crate) fn row_subrange(&self, first: usize, count: usize) -> Selection {
        let start = self.rows.start + first;
        debug_assert!(start + count <= self.rows.end);
        Selection {
            rows: start..start + count,
            row_length: self.row_length,
            segment: self.segment.clone(),
        }
    }

    /// Whether the selection is one contiguous range of the whole tensor, starting where.
    pub(crate) fn contiguous_start(&self) -> Option<usize> {
        let whole_rows = self.segment.start == 0 && self.segment.end == self.row_length;
        (whole_rows || self.rows.len() <= 1)
            .then(|| self.rows.start * self.row_length + self.segment.start)
    }
}

impl Shard {
    /// The shape of this shard of a tensor of shape `shape`: the split dimension shortened,
    /// or `[len]` for an element range.
    ///
    /// ```
    /// use nninit::init::Shard;
    /// let conv = [64, 32, 3, 3];
    /// assert_eq!(Shard::ColumnRange(8..16).shape(&conv)?, vec![64, 8, 3, 3]);
    /// assert!(Shard::Rows { part: 2, parts: 2 }.shape(&conv).is_err());
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn shape(&self, shape: &[usize]) -> Result<Vec<usize>> {
        let selection = self.select(shape)?;
        let mut result = shape.to_vec();
        match self {
            Shard::Whole => {}
            Shard::Rows { .. } | Shard::RowRange(_) => result[0] = selection.rows.len(),
            Shard::Columns { part, parts } => {
                result[1] = self.part_range(*part, *parts, shape[1])?.len()
            }
            Shard::ColumnRange(range) => result[1] = range.len(),
            Shard::ElementRange(range) => result = vec![range.len()],
        }
        Ok(result)
    }

    /// The number of elements of this shard of a tensor of shape `shape`.
    ///
    /// ```
    /// use nninit::init::Shard;
    /// assert_eq!(Shard::Columns { part: 0, parts: 4 }.len(&[8, 10])?, 8 * 3);
    /// # Ok::<(), nninit::Error>(())
    /// ```
    #[allow(clippy::len_without_is_empty)] // a shard has no length of its own, only of a shape
    pub fn len(&self, shape: &[usize]) -> Result<usize> {
        Ok(self.select(shape)?.len())
    }

    /// Resolves the shard against `shape`, checking that it lies inside the tensor.
    pub(crate) fn select(&self, shape: &[usize]) -> Result<Selection> {
        let count = element_count(shape)?;
        let dimension = |axis: usize, what: &str| {
            shape.get(axis).copied().ok_or_else(|| {
                Error::invalid(
                    "shard",
                    format!("a tensor with a dimension {axis} to split {what}"),
                    format!("{self:?} of a tensor of shape {shape:?}"),
                )
            })
        };
        let rows_of = |range: Range<usize>| -> Result<Selection> {
            let rows = dimension(0, "rows")?;
            Ok(Selection {
                rows: self.check_range(range, rows, "rows", shape)?,
                row_length: count.checked_div(rows).unwrap_or(0),
                segment: 0..count.checked_div(rows).unwrap_or(0),
            })
        };
        let columns_of = |range: Range<usize>| -> Result<Selection> {
            let columns = dimension(1, "columns")?;
            let range = self.check_range(range, columns, "columns", shape)?;
            let inner = trailing(shape)?;
            Ok(Selection {
                rows: 0..shape[0],
                row_length: columns * inner,
                segment: range.start * inner..range.end * inner,
            })
        };
        match self {
            Shard::Whole => Ok(Selection {
                rows: 0..1,
                row_length: count,
                segment: 0..count,
            }),
            Shard::Rows { part, parts } => {
                rows_of(self.part_range(*part, *parts, dimension(0, "rows")?)?)
            }
            Shard::Columns { part, parts } => {
                columns_of(self.part_range(*part, *parts, dimension(1, "columns")?)?)
            }
            Shard::RowRange(range) => rows_of(range.clone()),
            Shard::ColumnRange(range) => columns_of(range.clone()),
            Shard::ElementRange(range) => Ok(Selection {
                rows: 0..1,
                row_length: count,
                segment: self.check_range(range.clone(), count, "elements", shape)?,
            }),
        }
    }

    /// Part `part` of `parts` of `0 .. n`, as `numpy.array_split`.
    fn part_range(&self, part: usize, parts: usize, n: usize) -> Result<Range<usize>> {
        if parts == 0 || part >= parts {
            return Err(Error::invalid(
                "part",
                format!("< parts ({parts}) with parts >= 1"),
                part,
            ));
        }
        let (size, longer) = (n / parts, n % parts);
        let start = part * size + part.min(longer);
        Ok(start..start + size + usize::from(part < longer))
    }

    /// Checks `range` is an ordered range inside `0 .. n` (`n` of `what`).
    fn check_range(
        &self,
        range: Range<usize>,
        n: usize,
        what: &str,
        shape: &[usize],
    ) -> Result<Range<usize>> {
        if range.start <= range.end && range.end <= n {
            Ok(range)
        } else {
            Err(Error::invalid(
                "shard",
                format!("a range inside the {n} {what} of a tensor of shape {shape:?}"),
                format!("{self:?}"),
            ))
        }
    }
}

/// The product of the dimensions after the first two (1 for a matrix).
fn trailing(shape: &[usize]) -> Result<usize> {
    element_count(shape.get(2..).unwrap_or(&[]))
}

/// Writes the selected elements of the tensor that `initializer.fill_seeded(whole, fans,
/// seed)` would produce into `out` (row-major, `selection.len()` elements).
pub(crate) fn fill_selection<T, I>(
    initializer: &I,
    fans: Fans,
    seed: u64,
    selection: &Selection,
    out: &mut [T],
) -> Result<()>
where
    T: Element,
    I: Initializer<T> + ?Sized,
{
    debug_assert_eq!(out.len(), selection.len());
    if out.is_empty() {
        return Ok(());
    }
    if let Some(offset) = selection.contiguous_start() {
        return initializer.fill_shard(out, fans, seed, offset);
    }
    let segment = selection.segment.len();
    let fill_rows = |first_row: usize, rows: &mut [T]| -> Result<()> {
        for (i, row) in rows.chunks_exact_mut(segment).enumerate() {
            let offset = (first_row + i) * selection.row_length + selection.segment.start;
            initializer.fill_shard(row, fans, seed, offset)?;
        }
        Ok(())
    };
    let threads = crate::threads::num_threads()
        .min(out.len() / ROWS_WORK)
        .max(1);
    if threads == 1 || segment >= LONG_SEGMENT {
        return fill_rows(selection.rows.start, out);
    }
    // Blocks of whole rows from a shared queue (as the seeded fills do): each thread first
    // touches the pages it writes, and a slow core takes fewer blocks.
    let rows_per_block = (ROWS_WORK / segment).max(1);
    let blocks = out.chunks_mut(rows_per_block * segment).enumerate();
    crate::threads::try_for_each_item(threads, blocks, &|(block, rows)| {
        fill_rows(selection.rows.start + block * rows_per_block, rows)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_cover_every_row_once() {
        for n in 0..20 {
            for parts in 1..7 {
                let mut next = 0;
                for part in 0..parts {
                    let range = Shard::Rows { part, parts }
                        .part_range(part, parts, n)
                        .unwrap();
                    assert_eq!(range.start, next);
                    assert!(range.len() == n / parts || range.len() == n / parts + 1);
                    next = range.end;
                }
                assert_eq!(next, n);
            }
        }
    }

    #[test]
    fn selections() {
        let shape = [4, 3, 2];
        assert_eq!(
            Shard::ColumnRange(1..3).select(&shape).unwrap(),
            Selection {
                rows: 0..4,
                row_length: 6,
                segment: 2..6
            }
        );
        assert_eq!(
            Shard::Rows { part: 1, parts: 3 }.select(&shape).unwrap(),
            Selection {
                rows: 2..3,
                row_length: 6,
                segment: 0..6
            }
        );
        assert_eq!(
            Shard::Rows { part: 1, parts: 3 }
                .select(&shape)
                .unwrap()
                .contiguous_start(),
            Some(12)
        );
        assert_eq!(Shard::Whole.select(&[]).unwrap().len(), 1);
        assert_eq!(
            Shard::Rows { part: 0, parts: 2 }
                .select(&[0, 5])
                .unwrap()
                .len(),
            0
        );
    }

    #[test]
    fn bad_shards_name_the_shard_and_shape() {
        let cases = [
            (
                Shard::Rows { part: 2, parts: 2 },
                "part must be < parts (2)",
            ),
            (Shard::Rows { part: 0, parts: 0 }, "with parts >= 1"),
            (Shard::ColumnRange(0..1), "dimension 1 to split columns"),
            (
                Shard::RowRange(3..9),
                "inside the 8 rows of a tensor of shape [8]",
            ),
            #[allow(clippy::reversed_empty_ranges)] // an unordered range is the point
            (Shard::ElementRange(5..4), "got ElementRange(5..4)"),
        ];
        for (shard, expected) in cases {
            let error = shard.select(&[8]).unwrap_err().to_string();
            assert!(error.contains(expected), "{error}");
        }
    }
}
