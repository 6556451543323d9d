//! [`Network::diagnose`] and the monitored training step: nninit's own network measured
//! through the [`Probe`], like any other model.

use crate::error::Result;
use crate::fans::Fans;
use crate::loss::Loss;
use crate::nn::{Network, Optimizer, PassOutcome};

use super::{Probe, ProbeLayer, Report, Snapshot};

impl Network {
    /// One forward and backward pass on `x` / `y`, measured layer by layer, with warnings.
    ///
    /// The weights are not touched (the layers' stored gradients are overwritten). The layers
    /// are measured by a [`Probe`], exactly as another framework's model would be.
    ///
    /// # Shapes
    /// As [`Network::train_step`].
    ///
    /// ```
    /// use nninit::{BinaryCrossEntropy, Network, Sigmoid, Tanh, Warning, Zeros};
    /// let mut net = Network::builder(2).dense(4, Tanh).dense(1, Sigmoid).init(Zeros).build()?;
    /// let x = [0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0];
    /// let y = [0.0, 1.0, 1.0, 0.0];
    /// let report = net.diagnose(&x, &y, &BinaryCrossEntropy)?;
    /// assert!(matches!(report.warnings[0], Warning::SymmetricUnits { layer: 0, units: 4, of: 4 }));
    /// println!("{report}");
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn diagnose(&mut self, x: &[f32], y: &[f32], loss: &dyn Loss) -> Result<Report> {
        self.record_output_gradients(true);
        let outcome = self.forward_backward(x, y, loss, true);
        self.record_output_gradients(false);
        let probe = self.probe(x, loss, outcome?, None)?;
        Ok(probe.report())
    }

    /// [`train_step`](Network::train_step) that also measures the batch before the step, and the
    /// step itself (update-to-data ratios), as a [`Snapshot`].
    pub(crate) fn monitored_train_step(
        &mut self,
        batch: (&[f32], &[f32]),
        loss: &dyn Loss,
        optimizer: &mut dyn Optimizer,
        epoch: usize,
    ) -> Result<(PassOutcome, Snapshot)> {
        let (x, y) = batch;
        let step = self.steps();
        let weights: Vec<Vec<f32>> = self.layers().iter().map(|l| l.weight().to_vec()).collect();
        let biases: Vec<Vec<f32>> = self.layers().iter().map(|l| l.bias().to_vec()).collect();
        self.record_output_gradients(true);
        let outcome = self.train_step_measured(x, y, loss, optimizer, true);
        self.record_output_gradients(false);
        let outcome = outcome?;
        // The step changed the weights only: activations and gradients are those of `before`.
        let updates: Vec<Vec<f32>> = self
            .layers()
            .iter()
            .zip(&weights)
            .map(|(layer, old)| layer.weight().iter().zip(old).map(|(n, o)| n - o).collect())
            .collect();
        let step_taken = StepTaken {
            weights: &weights,
            biases: &biases,
            updates: &updates,
        };
        let report = self.probe(x, loss, outcome, Some(step_taken))?.report();
        Ok((outcome, Snapshot::new(step, epoch, report)))
    }

    /// The probe over every layer after a recorded forward and backward pass; `step` gives the
    /// weights the pass ran with and the optimizer's change to them, when a step was taken.
    fn probe(
        &self,
        x: &[f32],
        loss: &dyn Loss,
        outcome: PassOutcome,
        step: Option<StepTaken<'_>>,
    ) -> Result<Probe> {
        let mut probe =
            Probe::new(x, outcome.loss)?.uninformed_loss(loss.uninformed_loss(self.outputs()));
        if let Some(accuracy) = outcome.accuracy {
            probe = probe.accuracy(accuracy);
        }
        let missing = "diagnose ran a recorded forward and backward pass over every layer";
        for (index, layer) in self.layers().iter().enumerate() {
            let fans = Fans::new(layer.in_features(), layer.out_features());
            let weight = step.map_or(layer.weight(), |s| &s.weights[index]);
            let bias = step.map_or(layer.bias(), |s| &s.biases[index]);
            let mut measured = ProbeLayer::new(layer.activation(), fans, weight)
                .bias(bias)
                .outputs(
                    self.pre_activations(index).expect(missing),
                    self.activations(index).expect(missing),
                )
                .gradients(
                    layer.weight_gradient(),
                    self.output_gradient(index).expect(missing),
                )
                .initializer(layer.initializer(), layer.initializer_family());
            if let Some(step) = step {
                measured = measured.update(&step.updates[index]);
            }
            probe.layer(measured)?;
        }
        Ok(probe)
    }
}

/// The parameters a training step started from, and the change it made to each weight.
#[derive(Clone, Copy)]
struct StepTaken<'a> {
    weights: &'a [Vec<f32>],
    biases: &'a [Vec<f32>],
    updates: &'a [Vec<f32>],
}
