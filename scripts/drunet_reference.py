"""Reference check of the C DRUNet (src/nn) against PyTorch.

Builds small DRUNets in PyTorch with the parameter names of KAIR / deepinv
and seeded random weights, writes them as safetensors, runs them on seeded
inputs of odd and even sizes in 2D and 3D, and writes inputs, outputs and a
manifest (cases.txt) into tests/data/drunet/, which the ctest
test_nn_drunet_reference compares against (max |C - PyTorch| <= 1e-4 of
the output range). Also writes the tiny checkpoint (.pth, torch.save) that
test_nn_drunet_convert converts.

    /usr/bin/python3 scripts/drunet_reference.py            # regenerate the data
    /usr/bin/python3 scripts/drunet_reference.py --out /tmp/d --seed 7 \
        --check build/tests/test_nn_drunet_reference         # fresh nets, run the C side

Needs torch and numpy (scripts/install-python-tools.sh). The module also
serves convert_drunet.py (DRUNet class, safetensors writer).

Architecture (bias=False everywhere), for dims 2 or 3:
  m_head   conv 3x3(x3), in+1 -> nc0
  m_down_l nb ResBlocks at nc_l, then conv 2x2(x2) stride 2 -> nc_{l+1}
  m_body   nb ResBlocks at nc3
  m_up_l   transposed conv 2x2(x2) stride 2 nc_{l+1} -> nc_l, nb ResBlocks
  m_tail   conv 3x3(x3), nc0 -> out
  ResBlock x + conv(relu(conv(x))), parameters res.0 and res.2
forward: x1 = head(x); x2 = down1(x1); x3 = down2(x2); x4 = down3(x3);
         x = body(x4); x = up3(x + x4); x = up2(x + x3); x = up1(x + x2);
         out = tail(x + x1)
"""
import argparse
import json
import os
import struct
import subprocess
import sys

try:
    import numpy as np
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError as error:  # e.g. a pyenv python3 first on PATH
    sys.exit("%s: %s; run scripts/install-python-tools.sh and use /usr/bin/python3"
             % (os.path.basename(sys.argv[0]), error))


def sequential(*modules):
    """KAIR's sequential(): a single module is returned as it is, so that
    with nb = 1 the body's parameters are m_body.res.* (not m_body.0.res.*)."""
    if len(modules) == 1:
        return modules[0]
    return nn.Sequential(*modules)


def conv(dims, c_in, c_out, kernel, stride=1, padding=0, transposed=False):
    if transposed:
        cls = nn.ConvTranspose3d if dims == 3 else nn.ConvTranspose2d
    else:
        cls = nn.Conv3d if dims == 3 else nn.Conv2d
    return cls(c_in, c_out, kernel, stride=stride, padding=padding, bias=False)


class ResBlock(nn.Module):
    def __init__(self, dims, channels):
        super().__init__()
        self.res = nn.Sequential(conv(dims, channels, channels, 3, padding=1),
                                 nn.ReLU(inplace=False),
                                 conv(dims, channels, channels, 3, padding=1))

    def forward(self, x):
        return x + self.res(x)


class DRUNet(nn.Module):
    def __init__(self, dims=2, in_channels=1, out_channels=1, nc=(64, 128, 256, 512), nb=4):
        super().__init__()
        self.dims = dims
        blocks = lambda c: [ResBlock(dims, c) for _ in range(nb)]
        self.m_head = conv(dims, in_channels + 1, nc[0], 3, padding=1)
        self.m_down1 = sequential(*blocks(nc[0]), conv(dims, nc[0], nc[1], 2, stride=2))
        self.m_down2 = sequential(*blocks(nc[1]), conv(dims, nc[1], nc[2], 2, stride=2))
        self.m_down3 = sequential(*blocks(nc[2]), conv(dims, nc[2], nc[3], 2, stride=2))
        self.m_body = sequential(*blocks(nc[3]))
        self.m_up3 = sequential(conv(dims, nc[3], nc[2], 2, stride=2, transposed=True),
                                *blocks(nc[2]))
        self.m_up2 = sequential(conv(dims, nc[2], nc[1], 2, stride=2, transposed=True),
                                *blocks(nc[1]))
        self.m_up1 = sequential(conv(dims, nc[1], nc[0], 2, stride=2, transposed=True),
                                *blocks(nc[0]))
        self.m_tail = conv(dims, nc[0], out_channels, 3, padding=1)

    def forward_unet(self, x0):
        x1 = self.m_head(x0)
        x2 = self.m_down1(x1)
        x3 = self.m_down2(x2)
        x4 = self.m_down3(x3)
        x = self.m_body(x4)
        x = self.m_up3(x + x4)
        x = self.m_up2(x + x3)
        x = self.m_up1(x + x2)
        return self.m_tail(x + x1)

    def forward(self, x, sigma):
        """deepinv's DRUNet.forward: a constant noise-level channel; sizes
        that are all multiples of 8 and >= 32 run as they are, others are
        replicate-padded at the end to multiples of 16 and cropped
        (deepinv's test_pad(modulo=16); deepinv's 2D test_onesplit branch
        is replaced by the same padding, see src/nn/drunet_pad.c)."""
        noise = torch.full((x.shape[0], 1) + tuple(x.shape[2:]), float(sigma), dtype=x.dtype)
        x = torch.cat((x, noise), 1)
        spatial = list(x.shape[2:])
        if all(s % 8 == 0 and s >= 32 for s in spatial):
            return self.forward_unet(x)
        padded = [-(-s // 16) * 16 for s in spatial]
        pad = []
        for s, p in zip(reversed(spatial), reversed(padded)):
            pad += [0, p - s]
        y = self.forward_unet(F.pad(x, pad, mode="replicate"))
        return y[(Ellipsis,) + tuple(slice(0, s) for s in spatial)]


SAFETENSORS_DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}


def round_to_dtype(tensor, dtype):
    """The float32 values a tensor takes once stored as `dtype`."""
    return tensor.to(SAFETENSORS_DTYPES[dtype]).to(torch.float32)


def write_safetensors(path, tensors, dtype="F32", metadata=None):
    """tensors: {name: torch tensor}. Layout: u64 little-endian header
    length, JSON header (names sorted, padded with spaces to a multiple of
    8 bytes), data in header order."""
    names = sorted(tensors)
    header, blobs, offset = {}, [], 0
    for name in names:
        t = tensors[name].detach().to(SAFETENSORS_DTYPES[dtype]).contiguous()
        if dtype == "F32":
            blob = t.numpy().astype("<f4").tobytes()
        else:  # 16-bit types: their bits through int16
            blob = t.view(torch.int16).numpy().astype("<i2").tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    header["__metadata__"] = metadata or {"format": "pt"}
    text = json.dumps(header, separators=(",", ":"), sort_keys=True).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def save_npy(path, array):
    """The C reader takes up to 3 dimensions: (n, c, [d,] h, w) is stored
    as (n * c * d, h, w); cases.txt carries the full shape."""
    a = np.ascontiguousarray(array, dtype="<f4")
    np.save(path, a.reshape(-1, a.shape[-2], a.shape[-1]))


# ---- Generating the reference data ------------------------------------------

# Architectures kept small so that all the data stays under ~400 KB.
NETS = {
    # name: dims, in, out, channels, nb, stored dtype
    "net2d_nb1": (2, 1, 1, (4, 8, 12, 16), 1, "F32"),
    "net2d_rgb_nb2": (2, 3, 3, (4, 4, 8, 8), 2, "F16"),
    "net3d_nb1": (3, 1, 1, (2, 4, 4, 8), 1, "F32"),
    "net3d_nb2": (3, 1, 1, (4, 4, 8, 8), 2, "BF16"),
}
# net, input shape (n, c, [d,] h, w), sigma: odd, even, padded and unpadded sizes.
CASES = [
    ("net2d_nb1", (1, 1, 21, 17), 0.03),    # odd: padded to 32 x 32
    ("net2d_nb1", (2, 1, 32, 32), 0.1),     # multiple of 8 and >= 32: no padding
    ("net2d_nb1", (1, 1, 8, 40), 0.05),     # multiple of 8 but 8 < 32: padded to 16 x 48
    ("net2d_rgb_nb2", (2, 3, 13, 20), 0.1),
    ("net3d_nb1", (1, 1, 10, 12, 9), 0.03),  # odd: padded to 16^3
    ("net3d_nb1", (1, 1, 12, 20, 16), 0.05),  # z = 8 + 2 * 2 as in patch tiling
    ("net3d_nb2", (1, 1, 16, 16, 16), 0.1),  # even
    ("net3d_nb2", (2, 1, 10, 12, 9), 0.03),
]
# The checkpoint for the converter test: a 2D net saved with torch.save.
TINY = (2, 1, 1, (2, 4, 4, 8), 1)
TINY_INPUT = ((1, 1, 19, 22), 0.05)
# Standard deviation of the random weights relative to 1 / sqrt(fan_in).
WEIGHT_GAIN = 0.7


def random_weights(net, generator):
    with torch.no_grad():
        for name, p in sorted(net.named_parameters()):
            # m_up*.0 is the transposed conv (in, out, k...): one tap per input
            transposed = name.startswith("m_up") and name.split(".")[1] == "0"
            fan_in = p.shape[0] if transposed else p[0].numel()
            half_width = WEIGHT_GAIN * (3.0 / fan_in) ** 0.5
            p.copy_((torch.rand(p.shape, generator=generator) * 2 - 1) * half_width)


def build(spec, generator, dtype="F32"):
    dims, c_in, c_out, nc, nb = spec[:5]
    net = DRUNet(dims, c_in, c_out, nc, nb).eval()
    random_weights(net, generator)
    with torch.no_grad():  # compute with exactly the values the file stores
        for p in net.parameters():
            p.copy_(round_to_dtype(p, dtype))
    return net


def run(net, x, sigma):
    with torch.no_grad():
        return net(x, sigma)


def shape_text(shape):
    """n d h w as cases.txt wants it (d = 1 in 2D)."""
    if len(shape) == 4:
        return "%d 1 %d %d" % (shape[0], shape[2], shape[3])
    return "%d %d %d %d" % (shape[0], shape[2], shape[3], shape[4])


def generate(out, seed):
    os.makedirs(out, exist_ok=True)
    generator = torch.Generator().manual_seed(seed)
    nets = {}
    for name, spec in NETS.items():
        nets[name] = build(spec, generator, spec[5])
        write_safetensors(os.path.join(out, name + ".safetensors"),
                          dict(nets[name].state_dict()), spec[5])
    lines = ["# net input output n d h w sigma (written by scripts/drunet_reference.py)"]
    report = []
    for i, (name, shape, sigma) in enumerate(CASES):
        x = torch.rand(shape, generator=generator)
        y = run(nets[name], x, sigma)
        tag = "case%d_%s" % (i, "x".join(str(s) for s in shape))
        save_npy(os.path.join(out, tag + "_in.npy"), x.numpy())
        save_npy(os.path.join(out, tag + "_out.npy"), y.numpy())
        lines.append("%s.safetensors %s_in.npy %s_out.npy %s %g" %
                     (name, tag, tag, shape_text(shape), sigma))
        report.append("%-28s %-14s range %.4g" % (tag, name, float(y.max() - y.min())))
    with open(os.path.join(out, "cases.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")

    tiny = build(TINY, generator)
    torch.save(tiny.state_dict(), os.path.join(out, "tiny2d.pth"))
    shape, sigma = TINY_INPUT
    x = torch.rand(shape, generator=generator)
    save_npy(os.path.join(out, "tiny2d_in.npy"), x.numpy())
    save_npy(os.path.join(out, "tiny2d_out.npy"), run(tiny, x, sigma).numpy())
    here = os.path.dirname(os.path.abspath(__file__))
    convert = os.path.join(here, "convert_drunet.py")
    pth = os.path.join(out, "tiny2d.pth")
    subprocess.run([sys.executable, convert, pth, os.path.join(out, "tiny2d.safetensors")],
                   check=True)
    subprocess.run([sys.executable, convert, "--inflate-3d", pth,
                    os.path.join(out, "tiny3d_inflated.safetensors")], check=True)
    return report


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default_out = os.path.normpath(os.path.join(here, "..", "tests", "data", "drunet"))
    parser.add_argument("--out", default=default_out,
                        help="folder for nets, inputs, outputs, cases.txt")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--check", metavar="BINARY",
                        help="then run this test_nn_drunet_reference on the folder")
    args = parser.parse_args()
    torch.set_num_threads(1)  # deterministic reductions
    for line in generate(args.out, args.seed):
        print(line)
    total = sum(os.path.getsize(os.path.join(args.out, f)) for f in os.listdir(args.out))
    print("wrote %s (%d files, %.0f KB)" % (args.out, len(os.listdir(args.out)), total / 1024))
    if args.check:
        env = dict(os.environ, CBCT_NN_TEST_DATA=os.path.abspath(args.out))
        result = subprocess.run([args.check], env=env)
        print("C implementation vs PyTorch:", "PASS" if result.returncode == 0 else "FAIL")
        sys.exit(result.returncode)


if __name__ == "__main__":
    main()
