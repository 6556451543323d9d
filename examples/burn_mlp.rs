//! nninit in burn: a deep tanh network re-initialized with `nninit::burn::Reinit`.
//!
//! Builds the same burn model (2 inputs, 6 hidden tanh layers of 64 units, 1 linear output;
//! burn's `Linear` stores its weight as `[d_input, d_output]`) twice: once as burn creates it
//! (its default for `Linear` is `U(±1/sqrt(d_input))`, variance 1 / (3 · fan_in)), and once
//! re-initialized by `Reinit::new(GlorotUniform::default().gain(5.0 / 3.0), seed).bias(Zeros)`,
//! Glorot with tanh's gain and the fans of burn's layout. It prints each layer's weight std and
//! the std of its activations at initialization, then trains both with Adam on a toy
//! regression (`y = sin(πx₁)·cos(πx₂)` on a 16 x 16 grid) on burn's Flex CPU backend and
//! prints the loss curves.
//!
//! ```text
//! cargo run --release --example burn_mlp --features burn-flex
//! ```

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Tensor, TensorData};
use nninit::burn::Reinit;
use nninit::{GlorotUniform, Zeros};

const DEPTH: usize = 6;
const WIDTH: usize = 64;
const STEPS: usize = 300;
const PRINT_EVERY: usize = 50;
const LEARNING_RATE: f64 = 1e-3;

#[derive(Module, Debug)]
struct Mlp {
    layers: Vec<Linear>,
}

impl Mlp {
    fn new(device: &Device) -> Mlp {
        let sizes: Vec<usize> = std::iter::once(2)
            .chain(std::iter::repeat_n(WIDTH, DEPTH))
            .chain(std::iter::once(1))
            .collect();
        let layers = sizes
            .windows(2)
            .map(|pair| LinearConfig::new(pair[0], pair[1]).init(device))
            .collect();
        Mlp { layers }
    }

    /// Every layer's output: tanh for the hidden layers, linear for the last.
    fn forward_all(&self, x: Tensor<2>) -> Vec<Tensor<2>> {
        let mut outputs: Vec<Tensor<2>> = Vec::with_capacity(self.layers.len());
        let mut input = x;
        for (index, layer) in self.layers.iter().enumerate() {
            let z = layer.forward(input);
            let output = if index + 1 < self.layers.len() {
                z.tanh()
            } else {
                z
            };
            outputs.push(output.clone());
            input = output;
        }
        outputs
    }
}

fn dataset(device: &Device) -> (Tensor<2>, Tensor<2>) {
    let side = 16;
    let coordinate = |i: usize| -1.0 + 2.0 * i as f32 / (side - 1) as f32;
    let mut x = Vec::with_capacity(side * side * 2);
    let mut y = Vec::with_capacity(side * side);
    for i in 0..side {
        for j in 0..side {
            let (a, b) = (coordinate(i), coordinate(j));
            x.extend([a, b]);
            y.push((std::f32::consts::PI * a).sin() * (std::f32::consts::PI * b).cos());
        }
    }
    (
        Tensor::from_data(TensorData::new(x, [side * side, 2]), device),
        Tensor::from_data(TensorData::new(y, [side * side, 1]), device),
    )
}

fn std<const D: usize>(tensor: Tensor<D>) -> Result<f32, String> {
    let values: Vec<f32> = tensor
        .into_data()
        .try_to_vec()
        .map_err(|e| format!("{e:?}"))?;
    let n = values.len() as f64;
    let mean = values.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let variance = values
        .iter()
        .map(|&v| (f64::from(v) - mean).powi(2))
        .sum::<f64>()
        / n;
    Ok(variance.sqrt() as f32)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let device = Device::flex().autodiff();
    let (x, y) = dataset(&device);
    let mut default_model = Mlp::new(&device);
    let mut nninit_model = Reinit::new(GlorotUniform::default().gain(5.0 / 3.0), 7)
        .bias(Zeros)
        .apply(Mlp::new(&device))?;

    println!("burn model 2 -> {DEPTH} x {WIDTH} tanh -> 1 (Linear weights [d_input, d_output]).");
    println!(
        "At initialization, on the {} training points:\n",
        x.dims()[0]
    );
    println!(
        "{:>5} | {:>12} {:>14} | {:>12} {:>14}",
        "layer", "burn w std", "activation std", "nninit w std", "activation std"
    );
    let default_outputs = default_model.forward_all(x.clone());
    let nninit_outputs = nninit_model.forward_all(x.clone());
    for index in 0..default_model.layers.len() {
        println!(
            "{:>5} | {:>12.4} {:>14.4} | {:>12.4} {:>14.4}",
            index,
            std(default_model.layers[index].weight.val())?,
            std(default_outputs[index].clone())?,
            std(nninit_model.layers[index].weight.val())?,
            std(nninit_outputs[index].clone())?,
        );
    }

    let mut default_optimizer = AdamConfig::new().init();
    let mut nninit_optimizer = AdamConfig::new().init();
    println!("\nAdam, learning rate {LEARNING_RATE}, full batch, mean squared error:\n");
    println!("{:>5} | {:>12} | {:>12}", "step", "burn", "nninit");
    for iteration in 0..=STEPS {
        let mut losses = [0.0f32; 2];
        for (slot, (model, optimizer)) in [
            (&mut default_model, &mut default_optimizer),
            (&mut nninit_model, &mut nninit_optimizer),
        ]
        .into_iter()
        .enumerate()
        {
            let prediction = model
                .forward_all(x.clone())
                .pop()
                .ok_or("the model has no layers")?;
            let loss = (prediction - y.clone()).square().mean();
            losses[slot] = loss.clone().into_scalar::<f32>();
            let gradients = GradientsParams::from_grads(loss.backward(), &*model);
            let current = std::mem::replace(model, Mlp { layers: Vec::new() });
            *model = optimizer.step(LEARNING_RATE, current, gradients);
        }
        if iteration % PRINT_EVERY == 0 {
            println!("{iteration:>5} | {:>12.5} | {:>12.5}", losses[0], losses[1]);
        }
    }
    println!(
        "\nburn's default U(±1/sqrt(fan_in)) has a third of the variance a tanh layer needs to\n\
         pass its signal on: the activations shrink layer after layer. Glorot with tanh's gain,\n\
         with the fans read from burn's [d_input, d_output] layout, keeps them alive."
    );
    Ok(())
}
