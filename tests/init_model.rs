//! Name-keyed, sharded model initialization: every shard of every tensor is exactly the
//! matching elements of the whole tensor, for any split, thread count and element type.

use std::sync::Arc;

use nninit::init::{Shard, TensorSpec, initialize_model, initialize_model_shard, seed_for_name};
use nninit::{
    Element, Fans, GlorotNormal, HeUniform, Identity, Initializer, Normal, TruncatedNormal, Uniform,
};
use proptest::prelude::*;

/// The initializers the properties run over: vectorized `f32` uniform and normal streams,
/// block-per-element truncated normal, and a deterministic positional one.
fn initializer<T: Element>(which: usize) -> Arc<dyn Initializer<T>> {
    match which % 5 {
        0 => Arc::new(HeUniform::default()),
        1 => Arc::new(GlorotNormal::default()),
        2 => Arc::new(TruncatedNormal::new(0.0, 0.02, -0.04, 0.04)),
        3 => Arc::new(Normal::new(1.0, 3.0)),
        _ => Arc::new(Identity),
    }
}

/// The elements of `whole` (shape `shape`) that `shard` selects, gathered the slow way.
fn gather<T: Copy>(whole: &[T], shape: &[usize], shard: &Shard) -> Vec<T> {
    let rows = shape[0];
    let row_length = whole.len().checked_div(rows).unwrap_or(0);
    let inner: usize = shape[2..].iter().product();
    let (row_range, element_range) = match shard {
        Shard::Whole => (0..rows, 0..row_length),
        Shard::RowRange(r) => (r.clone(), 0..row_length),
        Shard::ColumnRange(c) => (0..rows, c.start * inner..c.end * inner),
        Shard::ElementRange(e) => return whole[e.clone()].to_vec(),
        Shard::Rows { part, parts } => (split(rows, *part, *parts), 0..row_length),
        Shard::Columns { part, parts } => {
            let c = split(shape[1], *part, *parts);
            (0..rows, c.start * inner..c.end * inner)
        }
        _ => unreachable!("a shard kind this test does not know"),
    };
    row_range
        .flat_map(|r| whole[r * row_length..(r + 1) * row_length][element_range.clone()].to_vec())
        .collect()
}

/// `numpy.array_split`'s part `part` of `parts` of `0 .. n`, written out differently: the
/// boundaries are `floor`-spaced from the longer parts first.
fn split(n: usize, part: usize, parts: usize) -> std::ops::Range<usize> {
    let boundary = |p: usize| p * (n / parts) + p.min(n % parts);
    boundary(part)..boundary(part + 1)
}

fn bits<T: Element>(values: &[T]) -> Vec<u64> {
    values.iter().map(|x| x.into_f64().to_bits()).collect()
}

/// A shard of a tensor of `shape`: one of each kind, with valid ranges.
fn shard_for(shape: &[usize]) -> impl Strategy<Value = Shard> + use<> {
    let (rows, columns) = (shape[0], shape[1]);
    let len: usize = shape.iter().product();
    let range = |n: usize| (0..=n, 0..=n).prop_map(|(a, b)| a.min(b)..a.max(b));
    prop_oneof![
        Just(Shard::Whole),
        (1..6usize)
            .prop_flat_map(|parts| (0..parts, Just(parts)))
            .prop_map(|(part, parts)| Shard::Rows { part, parts }),
        (1..6usize)
            .prop_flat_map(|parts| (0..parts, Just(parts)))
            .prop_map(|(part, parts)| Shard::Columns { part, parts }),
        range(rows).prop_map(Shard::RowRange),
        range(columns).prop_map(Shard::ColumnRange),
        range(len).prop_map(Shard::ElementRange),
    ]
}

fn shape_and_shard() -> impl Strategy<Value = (Vec<usize>, Shard)> {
    prop_oneof![
        (1..70usize, 1..300usize).prop_map(|(r, c)| vec![r, c]),
        (1..9usize, 1..9usize, 1..4usize, 1..4usize).prop_map(|(o, i, h, w)| vec![o, i, h, w]),
    ]
    .prop_flat_map(|shape| {
        let shard = shard_for(&shape);
        (Just(shape), shard)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    #[test]
    fn any_shard_is_the_slice_of_the_whole(
        (shape, shard) in shape_and_shard(),
        which in 0..5usize,
        seed in any::<u64>(),
        threads in 1..4usize,
    ) {
        // A dirac kernel needs odd kernel sizes: the identity only for matrices here.
        let which = if shape.len() > 2 && which == 4 { 0 } else { which };
        nninit::set_num_threads(threads);
        let spec32 = TensorSpec::<f32>::new("model.layers.3.mlp.up_proj.weight", shape.clone(), initializer(which));
        let whole = spec32.initialize(seed).unwrap();
        let part = spec32.initialize_shard(seed, &shard).unwrap();
        prop_assert_eq!(part.len(), shard.len(&shape).unwrap());
        prop_assert_eq!(shard.shape(&shape).unwrap().iter().product::<usize>(), part.len());
        prop_assert_eq!(bits(&part), bits(&gather(&whole, &shape, &shard)));

        let spec64 = TensorSpec::<f64>::new("w", shape.clone(), initializer(which));
        let whole = spec64.initialize(seed).unwrap();
        let part = spec64.initialize_shard(seed, &shard).unwrap();
        prop_assert_eq!(bits(&part), bits(&gather(&whole, &shape, &shard)));
        nninit::set_num_threads(0);
    }

    #[test]
    fn parts_reassemble_the_whole(
        rows in 1..40usize,
        columns in 1..200usize,
        parts in 1..7usize,
        by_columns in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let spec = TensorSpec::<f32>::new("w", [rows, columns], initializer(0));
        let whole = spec.initialize(seed).unwrap();
        let mut reassembled = vec![f32::NAN; rows * columns];
        let mut column = 0;
        let mut row = 0;
        for part in 0..parts {
            if by_columns {
                let shard = Shard::Columns { part, parts };
                let width = shard.shape(&[rows, columns]).unwrap()[1];
                let values = spec.initialize_shard(seed, &shard).unwrap();
                for r in 0..rows {
                    reassembled[r * columns + column..r * columns + column + width]
                        .copy_from_slice(&values[r * width..(r + 1) * width]);
                }
                column += width;
            } else {
                let values = spec.initialize_shard(seed, &Shard::Rows { part, parts }).unwrap();
                reassembled[row * columns..row * columns + values.len()].copy_from_slice(&values);
                row += values.len() / columns;
            }
        }
        prop_assert_eq!(bits(&reassembled), bits(&whole));
    }
}

/// The strided fill spread over threads (segments shorter than 65,536 elements, more than
/// 262,144 elements per thread) and the one that fills long segments one after the other.
#[test]
fn large_column_shards_on_any_thread_count() {
    for shape in [[2400usize, 1000], [3, 300_001]] {
        let spec = TensorSpec::<f32>::new("big", shape, Arc::new(Uniform::new(-1, 1)));
        nninit::set_num_threads(1);
        let whole = spec.initialize(9).unwrap();
        for threads in [1, 2, 3] {
            nninit::set_num_threads(threads);
            for part in 0..3 {
                let shard = Shard::Columns { part, parts: 3 };
                let values = spec.initialize_shard(9, &shard).unwrap();
                assert_eq!(bits(&values), bits(&gather(&whole, &shape, &shard)));
            }
        }
        nninit::set_num_threads(0);
    }
}

#[test]
fn a_model_is_its_tensors_keyed_by_name() {
    let he = Arc::new(HeUniform::default());
    let specs = vec![
        TensorSpec::<f32>::new("embed.weight", [100, 16], he.clone()),
        TensorSpec::new("fc.weight", [32, 16], he.clone()),
        TensorSpec::new("fc.bias", [32], Arc::new(Uniform::new(-0.25, 0.25))),
    ];
    let model = initialize_model(&specs, 2024).unwrap();
    // Each tensor is its initializer's seeded fill under seed_for_name(seed, name).
    let mut expected = vec![0.0f32; 32 * 16];
    he.fill_seeded(
        &mut expected,
        Fans::new(16, 32),
        seed_for_name(2024, "fc.weight"),
    )
    .unwrap();
    assert_eq!(model[1], expected);
    // Two shards of every tensor, each split its own way, reassemble the model.
    let plan = |rank: usize| {
        move |spec: &TensorSpec<f32>| match spec.name() {
            "fc.weight" => Shard::Columns {
                part: rank,
                parts: 2,
            },
            _ => Shard::Rows {
                part: rank,
                parts: 2,
            },
        }
    };
    let first = initialize_model_shard(&specs, 2024, plan(0)).unwrap();
    let second = initialize_model_shard(&specs, 2024, plan(1)).unwrap();
    // An order-independent, exact checksum: the wrapping sum of the values' bit patterns.
    let checksum = |v: &[f32]| {
        v.iter()
            .fold(0u64, |sum, x| sum.wrapping_add(u64::from(x.to_bits())))
    };
    for (i, spec) in specs.iter().enumerate() {
        let halves = checksum(&first[i]).wrapping_add(checksum(&second[i]));
        assert_eq!(halves, checksum(&model[i]), "{}", spec.name());
        assert_eq!(first[i].len() + second[i].len(), model[i].len());
    }
    assert_eq!(first[0][..], model[0][..50 * 16]);
}

#[test]
fn mismatched_buffers_and_shards_are_errors() {
    let spec = TensorSpec::<f32>::new("w", [4, 6], Arc::new(HeUniform::default()));
    let error = spec
        .fill_shard(0, &Shard::Whole, &mut [0.0; 23])
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "buffer for Whole of tensor 'w' has length 23, expected 24"
    );
    let error = spec
        .initialize_shard(0, &Shard::ColumnRange(2..7))
        .unwrap_err();
    assert!(
        error.to_string().contains("inside the 6 columns"),
        "{error}"
    );
    let error = spec
        .initialize_shard(0, &Shard::Columns { part: 3, parts: 3 })
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "part must be < parts (3) with parts >= 1, got 3"
    );
    let bad = TensorSpec::<f32>::new("w", [4, 6], Arc::new(Normal::new(0.0, -1.0)));
    assert!(bad.initialize(0).is_err());
}
