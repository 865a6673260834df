"""Convert a PyTorch DRUNet checkpoint (.pth state dict, 2D or 3D, the
parameter names of KAIR / deepinv: m_head, m_down1..3, m_body, m_up3..1,
m_tail, no biases) to safetensors for cbct (src/nn).

    /usr/bin/python3 scripts/convert_drunet.py drunet_gray.pth drunet_gray.safetensors
    /usr/bin/python3 scripts/convert_drunet.py --inflate-3d drunet_gray.pth drunet3d.safetensors
    ... --check build/tests/test_nn_drunet_reference   # then load it with the C code

--inflate-3d turns a 2D network into a 3D one. The default style "exact"
makes the 3D network give, on a volume that is constant along z, the 2D
network's output on every slice (bit for bit up to float rounding):
  3x3 conv        -> 3x3x3 with the 2D kernel on the centre slice, zeros
                     elsewhere: each slice is convolved on its own;
  2x2 stride-2    -> 2x2x2 with w/2 on both slices: out = (w/2) in[2z] +
  conv (m_down*)     (w/2) in[2z+1] = w in when the two slices are equal;
  2x2 stride-2    -> 2x2x2 with w on both slices: each output slice
  transposed conv    receives exactly one input slice, so copying w keeps
  (m_up*.0)          the 2D values (dividing by 2 would halve the up path).
(Both runs must see the same h, w: deepinv's padding rule pads h, w to
multiples of 16 whenever any of d, h, w needs it, so e.g. 8 x 40 x 48 pads
h to 48 in 3D while 40 x 48 runs unpadded in 2D.) Measured on a random
(8, 16, 32, 64), nb 2 net: exact 5e-8, average 0.04 (10% of the range).
Style "average" divides every 2x2 kernel by 2 on both slices (conv and
transposed alike) and puts 1e-8 on the off-centre taps of the 3x3 kernels,
as the Conv2dTo3d of a deepinv-based 3D benchmark does; its transposed
layers then halve the up-sampled signal, so it is not the 2D network on
z-constant volumes. Use it only to reproduce that benchmark.
"""
import argparse
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from drunet_reference import torch, write_safetensors  # noqa: E402 (exits without torch)

TRANSPOSED = re.compile(r"^m_up[123]\.0\.weight$")
# Containers that training scripts wrap a state dict in.
WRAPPERS = ("state_dict", "model_state_dict", "params", "params_ema", "model")


def load_state_dict(path):
    obj = torch.load(path, map_location="cpu")
    for key in WRAPPERS:
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
            break
    if not isinstance(obj, dict):
        sys.exit("%s: not a state dict (a dict of tensors)" % path)
    state = {}
    for name, value in obj.items():
        if not torch.is_tensor(value):
            continue
        name = name[len("module."):] if name.startswith("module.") else name  # DataParallel
        state[name] = value.detach().to(torch.float32).cpu()
    if "m_head.weight" not in state:
        sys.exit("%s: no m_head.weight: not a DRUNet checkpoint (names as in KAIR / deepinv)"
                 % path)
    biases = [n for n in state if n.endswith(".bias")]
    if biases:
        sys.exit("%s: has biases (%s...): cbct's DRUNet has none" % (path, biases[0]))
    return state


def inflate(name, w, style):
    """A 2D kernel (out, in, k, k) or transposed (in, out, k, k) -> 3D."""
    k = w.shape[-1]
    w3 = torch.zeros(w.shape[:2] + (k, k, k), dtype=w.dtype)
    if k % 2 == 1:
        if style == "average":
            w3.fill_(1e-8)
        w3[:, :, k // 2] = w
    elif TRANSPOSED.match(name) and style == "exact":
        w3[:] = w[:, :, None]
    else:
        w3[:] = w[:, :, None] / k
    return w3


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("input", help=".pth state dict")
    parser.add_argument("output", help=".safetensors to write")
    parser.add_argument("--inflate-3d", action="store_true",
                        help="turn a 2D network into a 3D one (see --inflate-style)")
    parser.add_argument("--inflate-style", choices=("exact", "average"), default="exact")
    parser.add_argument("--dtype", choices=("F32", "F16", "BF16"), default="F32")
    parser.add_argument("--check", metavar="BINARY",
                        help="load the result with the C code (test_nn_drunet_reference --load)")
    args = parser.parse_args()

    state = load_state_dict(args.input)
    dims = state["m_head.weight"].dim() - 2
    if args.inflate_3d:
        if dims != 2:
            sys.exit("%s: --inflate-3d needs a 2D checkpoint; this one is %dD" %
                     (args.input, dims))
        state = {n: inflate(n, w, args.inflate_style) for n, w in state.items()}
        dims = 3
    bad = [n for n, w in state.items() if w.dim() != dims + 2]
    if bad:
        sys.exit("%s: tensor %s has shape %s: expected %d dimensions" %
                 (args.input, bad[0], list(state[bad[0]].shape), dims + 2))
    write_safetensors(args.output, state, args.dtype,
                      {"format": "pt", "source": os.path.basename(args.input),
                       "inflated": args.inflate_style if args.inflate_3d else "no"})
    print("%s: %d tensors, %dD, %s -> %s" % (args.input, len(state), dims, args.dtype,
                                             args.output))
    if args.check:
        sys.exit(subprocess.run([args.check, "--load", args.output]).returncode)


if __name__ == "__main__":
    main()
