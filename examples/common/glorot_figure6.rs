//! The core of `examples/glorot_figure6.rs`: a hand-written five-layer tanh model (plain
//! slices and loops, standing for any framework's model), one forward and backward pass, and
//! its layers handed to `nninit::Probe`.

use nninit::{
    Activation, CrossEntropy, Fans, GlorotUniform, Identity, Initializer, InitializerFamily, Loss,
    Probe, ProbeLayer, Report, Tanh, Uniform,
};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

/// Hidden tanh layers, their width, the classes and the batch.
pub const DEPTH: usize = 5;
pub const WIDTH: usize = 256;
pub const CLASSES: usize = 10;
pub const BATCH: usize = 256;

/// A hand-written dense layer: weight `out x in` (PyTorch layout), zero bias.
struct Layer {
    weight: Vec<f32>,
    inputs: usize,
    units: usize,
    activation: Box<dyn Activation>,
    /// The initializer's name and family, for the report.
    initializer: (&'static str, InitializerFamily),
}

/// What the forward and backward passes leave behind for one layer.
struct Trace {
    pre_activations: Vec<f32>,
    activations: Vec<f32>,
    weight_gradient: Vec<f32>,
    output_gradient: Vec<f32>,
}

/// Builds the model with `init`, runs one forward and backward pass and probes every layer.
pub fn measure(
    x: &[f32],
    labels: &[f32],
    init: &dyn Fn(Fans) -> Box<dyn Initializer<f32>>,
) -> nninit::Result<Report> {
    let mut layers = Vec::new();
    for index in 0..=DEPTH {
        let (units, activation): (usize, Box<dyn Activation>) = match index {
            DEPTH => (CLASSES, Box::new(Identity)),
            _ => (WIDTH, Box::new(Tanh)),
        };
        let fans = Fans::try_new(WIDTH, units)?;
        let mut weight = vec![0.0; units * WIDTH];
        let initializer = init(fans);
        initializer.fill_seeded(&mut weight, fans, 100 + index as u64)?;
        layers.push(Layer {
            weight,
            inputs: WIDTH,
            units,
            activation,
            initializer: (initializer.name(), initializer.family()),
        });
    }
    let (traces, loss) = forward_backward(&layers, x, labels)?;
    let mut probe = Probe::new(x, loss)?.uninformed_loss(CrossEntropy.uninformed_loss(CLASSES));
    for (layer, trace) in layers.iter().zip(&traces) {
        probe.layer(
            ProbeLayer::new(
                layer.activation.as_ref(),
                Fans::try_new(layer.inputs, layer.units)?,
                &layer.weight,
            )
            .outputs(&trace.pre_activations, &trace.activations)
            .gradients(&trace.weight_gradient, &trace.output_gradient)
            .initializer(layer.initializer.0, layer.initializer.1),
        )?;
    }
    Ok(probe.report())
}

/// Forward: `z = a Wᵀ`, `y = f(z)`; softmax cross entropy; backward:
/// `∂L/∂z = ∂L/∂y ⊙ f'(z)`, `∂L/∂W = (∂L/∂z)ᵀ a`, `∂L/∂a = ∂L/∂z · W`.
fn forward_backward(
    layers: &[Layer],
    x: &[f32],
    labels: &[f32],
) -> nninit::Result<(Vec<Trace>, f32)> {
    let mut traces: Vec<Trace> = Vec::new();
    for layer in layers {
        let input = traces.last().map_or(x, |t| &t.activations);
        let pre_activations = times_transposed(input, &layer.weight, layer.inputs);
        let mut activations = vec![0.0; pre_activations.len()];
        layer
            .activation
            .forward_slice(&pre_activations, &mut activations);
        traces.push(Trace {
            pre_activations,
            activations,
            weight_gradient: Vec::new(),
            output_gradient: Vec::new(),
        });
    }
    let logits = &traces[layers.len() - 1].activations;
    let mut upstream = vec![0.0; logits.len()];
    let loss = CrossEntropy.loss_and_gradient(logits, labels, CLASSES, &mut upstream)?;
    for index in (0..layers.len()).rev() {
        let layer = &layers[index];
        let trace = &traces[index];
        let mut delta = upstream.clone();
        layer
            .activation
            .backward_slice(&trace.pre_activations, &trace.activations, &mut delta);
        let input = if index == 0 {
            x
        } else {
            &traces[index - 1].activations
        };
        let weight_gradient = transposed_times(&delta, input, layer.units, layer.inputs);
        let below = times(&delta, &layer.weight, layer.units, layer.inputs);
        let trace = &mut traces[index];
        trace.weight_gradient = weight_gradient;
        trace.output_gradient = std::mem::replace(&mut upstream, below);
    }
    Ok((traces, loss))
}

/// `a · Wᵀ` for `a` (`batch x inputs`) and `W` (`units x inputs`).
fn times_transposed(a: &[f32], w: &[f32], inputs: usize) -> Vec<f32> {
    a.chunks(inputs)
        .flat_map(|row| {
            w.chunks(inputs)
                .map(move |unit| row.iter().zip(unit).map(|(a, b)| a * b).sum::<f32>())
        })
        .collect()
}

/// `δᵀ · a` for `δ` (`batch x units`) and `a` (`batch x inputs`): `units x inputs`.
fn transposed_times(delta: &[f32], a: &[f32], units: usize, inputs: usize) -> Vec<f32> {
    let mut out = vec![0.0; units * inputs];
    for (d, row) in delta.chunks(units).zip(a.chunks(inputs)) {
        for (u, &du) in d.iter().enumerate() {
            for (o, &v) in out[u * inputs..(u + 1) * inputs].iter_mut().zip(row) {
                *o += du * v;
            }
        }
    }
    out
}

/// `δ · W` for `δ` (`batch x units`) and `W` (`units x inputs`): `batch x inputs`.
fn times(delta: &[f32], w: &[f32], units: usize, inputs: usize) -> Vec<f32> {
    let mut out = vec![0.0; delta.len() / units * inputs];
    for (d, o) in delta.chunks(units).zip(out.chunks_mut(inputs)) {
        for (&du, unit) in d.iter().zip(w.chunks(inputs)) {
            for (o, &v) in o.iter_mut().zip(unit) {
                *o += du * v;
            }
        }
    }
    out
}

/// The inputs (uniform in [0, 1), as image intensities) and random labels, seeded.
pub fn batch() -> (Vec<f32>, Vec<f32>) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(6);
    let x: Vec<f32> = (0..BATCH * WIDTH)
        .map(|_| rng.random_range(0.0..1.0))
        .collect();
    let labels: Vec<f32> = (0..BATCH)
        .map(|_| rng.random_range(0..CLASSES) as f32)
        .collect();
    (x, labels)
}

/// Glorot & Bengio's "standard" initialization `U(±1/√n)`, n = fan_in.
pub fn standard(fans: Fans) -> Box<dyn Initializer<f32>> {
    let bound = 1.0 / (fans.fan_in as f64).sqrt();
    Box::new(Uniform::new(-bound, bound))
}

/// Their "normalized" initialization `U(±√6/√(n_in + n_out))`: Glorot uniform.
pub fn normalized(_: Fans) -> Box<dyn Initializer<f32>> {
    Box::new(GlorotUniform::default())
}
