//! Pre-trained weights: safetensors and NumPy `.npy` / `.npz` files.
