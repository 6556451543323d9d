//! The dense network: layers, builder, forward and backward passes, optimizers, training.
