"""Regenerates the interop fixtures of nninit's `io` tests, and the example's PyTorch-layout MLP.

Run from the repository root:   python3 tests/data/make_fixtures.py
Needs: numpy (2.x) and safetensors (0.8), both from PyPI. Torch is not needed: the example MLP
is written with safetensors.numpy in exactly the layout `safetensors.torch.save_file` gives a
`torch.nn.Sequential` state dict (see `write_pytorch_mlp`).

Every array's values follow a formula the Rust tests recompute (tests/io_interop.rs):
    ramp(n)[i]     = (i - 5) * 0.25               exact in f16, bf16, f32 and f64
    ramp_f64(n)[i] = (i - 5) * 0.25 + 0.1         computed in float64; loads as f32 rounded
reshaped row-major (C order) to the stated shape.
"""

import os

import numpy as np
from safetensors import TensorSpec, serialize_file
from safetensors.numpy import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLES = os.path.join(HERE, "..", "..", "examples", "data")


def ramp(shape, dtype=np.float32):
    n = int(np.prod(shape))
    return ((np.arange(n, dtype=np.float64) - 5) * 0.25).reshape(shape).astype(dtype)


def ramp_f64(shape):
    n = int(np.prod(shape))
    return ((np.arange(n, dtype=np.float64) - 5) * 0.25 + 0.1).reshape(shape)


def path(name):
    return os.path.join(HERE, name)


def write_safetensors():
    # F32, F64 and F16 through the numpy front end (with metadata).
    save_file(
        {
            "f32": ramp((2, 3)),
            "f64": ramp_f64((3, 2)),
            "f16": ramp((4,), np.float16),
            "scalar": np.array(1.5, dtype=np.float32),
        },
        path("dtypes.safetensors"),
        metadata={"format": "pt", "source": "make_fixtures.py"},
    )
    # NumPy has no bfloat16: pass the bit patterns (top halves of the f32 values) to the
    # low-level serializer with dtype "bfloat16", as safetensors.torch does for torch.bfloat16.
    bits = (ramp((2, 4)).view(np.uint32) >> 16).astype(np.uint16)
    spec = TensorSpec(dtype="bfloat16", shape=[2, 4], data_ptr=bits.ctypes.data, data_len=bits.nbytes)
    serialize_file({"bf16": spec}, path("bf16.safetensors"), None)
    # An integer tensor: loading must fail with UnsupportedDtype naming I64 and "steps".
    save_file(
        {"steps": np.arange(3, dtype=np.int64), "w": ramp((2,))},
        path("int64.safetensors"),
    )


def write_npy():
    array = ramp((2, 3))
    for version in [(1, 0), (2, 0), (3, 0)]:
        with open(path(f"v{version[0]}_f4.npy"), "wb") as f:
            np.lib.format.write_array(f, array, version=version)
    np.save(path("be_f4.npy"), ramp((2, 3), ">f4"))
    np.save(path("be_f8.npy"), ramp_f64((2, 3)).astype(">f8"))
    np.save(path("le_f8.npy"), ramp_f64((2, 3)))
    np.save(path("le_f2.npy"), ramp((5,), "<f2"))
    np.save(path("be_f2.npy"), ramp((5,), ">f2"))
    np.save(path("scalar.npy"), np.array(-2.5, dtype=np.float32))
    # Fortran order: the file holds the data column-major; np.load gives the same values.
    np.save(path("fortran_f4.npy"), np.asfortranarray(ramp((2, 3, 4))))
    np.save(path("fortran_be_f8.npy"), np.asfortranarray(ramp_f64((3, 2)).astype(">f8")))
    # Object array: pickled, must be refused.
    np.save(path("object.npy"), np.array([1, "two", None], dtype=object), allow_pickle=True)


def write_npz():
    arrays = {"weight": ramp((3, 2)), "bias": ramp((3,), np.float64)}
    np.savez(path("stored.npz"), **arrays)
    np.savez_compressed(path("deflated.npz"), **arrays)
    np.savez(path("object.npz"), ok=ramp((2,)), bad=np.array([{}, []], dtype=object))


def write_pytorch_mlp():
    """A 2-4-1 tanh/sigmoid MLP that computes XOR, in the layout PyTorch writes for

        model = torch.nn.Sequential(
            torch.nn.Linear(2, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1), torch.nn.Sigmoid())
        safetensors.torch.save_file(model.state_dict(), "pytorch_mlp.safetensors",
                                    metadata={"format": "pt"})

    i.e. keys 0.weight [4, 2], 0.bias [4], 2.weight [1, 4], 2.bias [1] (the Tanh at index 1
    and the Sigmoid at index 3 have no parameters), F32, row-major [out, in] weights.
    Hidden unit 0 fires for x1 + x2 > 0.5, unit 1 for x1 + x2 > 1.5; the output is their
    difference: high exactly when one input is 1. Units 2 and 3 are small distractors.
    """
    state = {
        "0.weight": np.array([[4.0, 4.0], [4.0, 4.0], [0.5, -0.5], [-0.25, 0.25]], np.float32),
        "0.bias": np.array([-2.0, -6.0, 0.0, 0.0], np.float32),
        "2.weight": np.array([[6.0, -6.0, 0.1, -0.1]], np.float32),
        "2.bias": np.array([-5.0], np.float32),
    }
    os.makedirs(EXAMPLES, exist_ok=True)
    save_file(state, os.path.join(EXAMPLES, "pytorch_mlp.safetensors"), metadata={"format": "pt"})


if __name__ == "__main__":
    write_safetensors()
    write_npy()
    write_npz()
    write_pytorch_mlp()
