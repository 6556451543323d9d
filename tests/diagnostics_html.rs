//! The dashboard page and the SVG plots: well-formed, self-contained, naming every layer.

use std::ops::ControlFlow;

use nninit::diagnostics::{html, svg};
use nninit::{BinaryCrossEntropy, FitConfig, Monitor, Network, Sgd, Sigmoid, Tanh};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

/// A 4-layer tanh net trained on a noisy two-class problem, monitored every 5 steps.
fn trained() -> (nninit::Report, Vec<nninit::Snapshot>) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
    let x: Vec<f32> = (0..128 * 4).map(|_| rng.random_range(-1.0..1.0)).collect();
    let y: Vec<f32> = x.chunks(4).map(|r| f32::from(r[0] * r[1] > 0.0)).collect();
    let mut net = Network::builder(4)
        .dense(16, Tanh)
        .dense(16, Tanh)
        .dense(16, Tanh)
        .dense(1, Sigmoid)
        .seed(5)
        .build()
        .unwrap();
    let report = net.diagnose(&x, &y, &BinaryCrossEntropy).unwrap();
    let config = FitConfig::new(5, 16).monitor(Monitor::every(5).unwrap());
    let history = net
        .fit(
            &x,
            &y,
            &BinaryCrossEntropy,
            &mut Sgd::new(0.1),
            config,
            |_| ControlFlow::Continue(()),
        )
        .unwrap();
    (report, history.snapshots)
}

/// Every element and attribute of the document, depth first.
fn texts(document: &roxmltree::Document<'_>) -> Vec<String> {
    document
        .descendants()
        .filter_map(|n| n.text().map(str::to_string))
        .collect()
}

#[test]
fn dashboard_is_well_formed_self_contained_and_names_every_layer() {
    let (report, snapshots) = trained();
    assert_eq!(snapshots.len(), 8, "5 epochs x 8 steps, every 5th");
    let page = html::dashboard("tanh & sigmoid <net>", &report, &snapshots);
    let document = roxmltree::Document::parse_with_options(
        &page,
        roxmltree::ParsingOptions {
            allow_dtd: true,
            ..Default::default()
        },
    )
    .unwrap_or_else(|e| panic!("not well-formed XML: {e}"));
    let root = document.root_element();
    assert_eq!(root.tag_name().name(), "html");
    // No scripts, and nothing fetched: no element points anywhere.
    for node in document.descendants().filter(|n| n.is_element()) {
        assert_ne!(node.tag_name().name(), "script");
        for attribute in node.attributes() {
            assert!(
                !["src", "href"].contains(&attribute.name()),
                "{} has {}",
                node.tag_name().name(),
                attribute.name()
            );
        }
    }
    let texts = texts(&document);
    assert!(texts.iter().any(|t| t == "tanh & sigmoid <net>"));
    // Every layer in the table (first column) and in the plots' legends.
    let cells: Vec<&str> = document
        .descendants()
        .filter(|n| n.tag_name().name() == "td")
        .filter_map(|n| n.text())
        .collect();
    let svgs = document
        .descendants()
        .filter(|n| n.tag_name().name() == "svg")
        .count();
    assert_eq!(
        svgs, 5,
        "histograms at init, 3 curves over training, histograms at the end"
    );
    // Hidden layers: 2 histogram panels x 2 + 3 curves over training; the output layer is left
    // out of the histograms (its activation and gradient are the loss's).
    let layers = report.layers.len();
    for layer in 0..layers {
        let name = format!("layer {layer}");
        assert!(cells.contains(&name.as_str()), "table misses {name}");
        let legends = document
            .descendants()
            .filter(|n| n.tag_name().name() == "text" && n.text() == Some(&name))
            .count();
        let expected = if layer + 1 < layers { 7 } else { 3 };
        assert_eq!(legends, expected, "{name} in {legends} legends");
    }
    // The warnings are printed, escaped.
    for warning in &report.warnings {
        assert!(texts.contains(&warning.to_string()));
    }
}

#[test]
fn plots_parse_as_standalone_svg() {
    let (report, snapshots) = trained();
    for document in [
        svg::histograms(&report),
        svg::activation_std_over_training(&snapshots),
        svg::update_to_data_over_training(&snapshots),
        svg::saturation_over_training(&snapshots),
        svg::activation_std_over_training(&[]),
    ] {
        let parsed = roxmltree::Document::parse(&document)
            .unwrap_or_else(|e| panic!("not well-formed: {e}\n{document}"));
        assert_eq!(parsed.root_element().tag_name().name(), "svg");
    }
    // The update-to-data plot draws the 1e-3 line and one polyline per layer.
    let update = svg::update_to_data_over_training(&snapshots);
    assert!(update.contains("stroke-dasharray"));
    assert_eq!(update.matches("<polyline").count(), report.layers.len());
}

#[test]
fn write_dashboard_replaces_the_file_whole() {
    let (report, snapshots) = trained();
    let directory = std::env::temp_dir().join(format!("nninit-dashboard-{}", std::process::id()));
    std::fs::create_dir_all(&directory).unwrap();
    let path = directory.join("dashboard.html");
    html::write_dashboard(&path, "run", &report, &snapshots).unwrap();
    let written = std::fs::read_to_string(&path).unwrap();
    assert_eq!(written, html::dashboard("run", &report, &snapshots));
    let missing = directory.join("no/such/dir/page.html");
    assert!(html::write_dashboard(&missing, "run", &report, &[]).is_err());
    std::fs::remove_dir_all(&directory).unwrap();
}
