//! Tests of the examples' shared code: datasets, the `--out` parser, histograms, tables and
//! the learning-rate verdicts.

#[path = "../examples/common/mod.rs"]
mod common;

use std::path::PathBuf;

use common::args::{Args, DEFAULT_OUT};
use common::data::{circles, flower, spiral, xor};
use common::learning_rates::Verdict;
use common::plot::histogram;
use common::train::{Run, Table, predicted_class};

#[test]
fn datasets_have_the_documented_sizes_and_balanced_labels() {
    let f = flower(200, 1);
    assert_eq!(
        (f.len(), f.x.len(), f.features, f.classes),
        (400, 800, 2, 2)
    );
    assert_eq!(f.positive_fraction(), 0.5);
    let c = circles(301, 0.05, 1);
    assert_eq!(
        (c.len(), c.y.iter().filter(|&&y| y == 1.0).count()),
        (301, 151)
    );
    let s = spiral(10, 3, 1);
    assert_eq!((s.len(), s.classes), (30, 3));
    assert_eq!(s.y.iter().filter(|&&y| y == 2.0).count(), 10);
    let x = xor(400, 1);
    assert_eq!(x.positive_fraction(), 0.5);
}

#[test]
fn datasets_are_reproducible_and_seed_dependent() {
    assert_eq!(flower(200, 1), flower(200, 1));
    assert_ne!(flower(200, 1).x, flower(200, 2).x);
    assert_eq!(spiral(50, 3, 7), spiral(50, 3, 7));
    assert_ne!(circles(100, 0.05, 1).x, circles(100, 0.05, 2).x);
}

#[test]
fn xor_labels_follow_the_signs_and_circles_the_radius() {
    let x = xor(200, 3);
    for (point, &label) in x.x.chunks(2).zip(&x.y) {
        assert_eq!(label == 1.0, (point[0] > 0.0) != (point[1] > 0.0));
    }
    // Without noise the outer circle has radius 1 and the inner 0.8.
    let c = circles(100, 0.0, 1);
    for (point, &label) in c.x.chunks(2).zip(&c.y) {
        let radius = point[0].hypot(point[1]);
        let expected = if label == 0.0 { 1.0 } else { 0.8 };
        assert!(
            (radius - expected).abs() < 1e-5,
            "radius {radius} for label {label}"
        );
    }
}

#[test]
fn flower_points_lie_near_the_rose() {
    // r = 4 sin(4 t) + 0.2 N(0, 1) with t itself perturbed: every point is within 4.2 + 5
    // noise standard deviations (1.0) of the origin.
    let f = flower(200, 1);
    assert!(f.x.chunks(2).all(|p| p[0].hypot(p[1]) < 5.2));
}

#[test]
fn out_argument_parses_in_both_forms_and_rejects_others() {
    let parse = |args: &[&str]| Args::parse("t", args.iter().map(|s| s.to_string()));
    assert_eq!(parse(&[]).map(|a| a.out), Ok(PathBuf::from(DEFAULT_OUT)));
    assert_eq!(
        parse(&["--out", "plots"]).map(|a| a.out),
        Ok(PathBuf::from("plots"))
    );
    assert_eq!(
        parse(&["--out=x/y"]).map(|a| a.out),
        Ok(PathBuf::from("x/y"))
    );
    assert!(parse(&["--out"]).is_err());
    assert!(parse(&["--plots", "x"]).unwrap_err().contains("--plots"));
}

#[test]
fn histogram_fractions_sum_to_one_and_clamp_outliers() {
    let values = [-5.0, -0.9, -0.1, 0.1, 0.2, 0.9, 5.0, 0.0];
    let bins = histogram(&values, -1.0, 1.0, 4);
    assert_eq!(bins.len(), 4);
    assert!((bins.iter().map(|b| b.1).sum::<f64>() - 1.0).abs() < 1e-12);
    assert_eq!(bins[0], (-0.75, 2.0 / 8.0)); // -5 (clamped) and -0.9
    assert_eq!(bins[3], (0.75, 2.0 / 8.0)); // 0.9 and 5 (clamped)
}

#[test]
fn table_aligns_columns() {
    let mut table = Table::new(&["name", "value"]);
    table.row(vec!["a".into(), "1.5".into()]);
    table.row(vec!["long name".into(), "-10.25".into()]);
    let text = table.render();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "name       value");
    assert_eq!(lines[2], "a             1.5");
    assert_eq!(lines[3], "long name  -10.25");
}

#[test]
fn predicted_class_thresholds_one_output_and_takes_the_argmax_of_several() {
    assert_eq!(predicted_class(&[0.7]), 1);
    assert_eq!(predicted_class(&[0.3]), 0);
    assert_eq!(predicted_class(&[0.1, 2.0, -1.0]), 1);
}

#[test]
fn verdicts_name_divergence_jumps_and_slowness() {
    let run = |costs: &[f32], diverged_at| Run {
        costs: costs.to_vec(),
        diverged_at,
    };
    assert_eq!(
        Verdict::of(&run(&[1.0, 2.0], Some(2))),
        Verdict::Diverged(2)
    );
    assert_eq!(
        Verdict::of(&run(&[1.0, 1.6, 0.2], None)),
        Verdict::Unstable { peak: 1.6, at: 1 }
    );
    assert_eq!(Verdict::of(&run(&[1.0, 0.9, 0.8], None)), Verdict::Slow);
    assert_eq!(Verdict::of(&run(&[1.0, 0.5, 0.3], None)), Verdict::Learns);
}
