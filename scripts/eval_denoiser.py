"""PSNR of a DRUNet on held-out volumes, denoised by the C engine.

The held-out volumes are never seen in training (scripts/train_drunet3d.py
uses walnut seeds 1..8, random ellipsoid sets and their FDKs): walnuts of
seeds 1001 and 1002, the 3D Shepp-Logan of `cbct phantom`, an FDK of a
30-view scan of walnut seed 1003, and the head CT of the shared data
(vtk_headsq.mha). Each is normalised to [0, 1], Gaussian noise of sigma
0.01, 0.03, 0.05 is added (seeded), `cbct denoise` denoises it, and the
PSNR (data range 1) is printed before and after as a Markdown table.

It also checks that PyTorch (scripts/drunet_reference.py's DRUNet) and the
C engine give the same output on whole volumes (one window, no overlap):
max |C - PyTorch| <= 1e-4.

    /usr/bin/python3 scripts/eval_denoiser.py --cbct build/cbct \
        --model models/drunet3d_small.safetensors
"""
import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from drunet_reference import DRUNet  # noqa: E402  (also checks imports)
from train_drunet3d import CHANNELS, NB, fdk_sparse, normalise  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

SIGMAS = (0.01, 0.03, 0.05)
HEAD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data",
                    "vtk_headsq.mha")
PATCH, OVERLAP = 64, 8  # windows of 80^3: multiples of 16, no padding


def read_mha(path):
    """MetaImage with the data after the header (ElementDataFile = LOCAL),
    uint16 or int16; returns (z, y, x) float32."""
    with open(path, "rb") as f:
        raw = f.read()
    header, pos = {}, 0
    while True:
        end = raw.index(b"\n", pos)
        key, _, value = raw[pos:end].decode().partition("=")
        header[key.strip()] = value.strip()
        pos = end + 1
        if key.strip() == "ElementDataFile":
            break
    if header["ElementDataFile"] != "LOCAL" or header.get("CompressedData", "False") != "False":
        sys.exit("%s: only uncompressed MetaImage with local data" % path)
    types = {"MET_USHORT": "u2", "MET_SHORT": "i2"}
    order = ">" if header.get("BinaryDataByteOrderMSB", "False") == "True" else "<"
    nx, ny, nz = (int(s) for s in header["DimSize"].split())
    data = np.frombuffer(raw[pos:], order + types[header["ElementType"]], nx * ny * nz)
    return data.reshape(nz, ny, nx).astype(np.float32)


def psnr(reference, volume):
    mse = np.mean((reference.astype(np.float64) - volume) ** 2)
    return 10 * np.log10(1.0 / mse)


def held_out(cbct, head, work):
    volumes = []
    for seed, n in ((1001, 64), (1002, 80)):
        path = os.path.join(work, "walnut.npy")
        subprocess.run([cbct, "phantom", "--kind", "walnut", "--shape", str(n), "--seed",
                        str(seed), "-o", path, "--quiet"], check=True)
        volumes.append(("walnut seed %d, %d^3" % (seed, n), normalise(np.load(path))))
    path = os.path.join(work, "shepp.npy")
    subprocess.run([cbct, "phantom", "--kind", "shepp-logan", "--shape", "64", "-o", path,
                    "--quiet"], check=True)
    volumes.append(("Shepp-Logan, 64^3", normalise(np.load(path))))
    subprocess.run([cbct, "phantom", "--kind", "walnut", "--shape", "64", "--seed", "1003",
                    "-o", path, "--quiet"], check=True)
    volumes.append(("FDK 30 views of walnut seed 1003, 64^3",
                    normalise(fdk_sparse(cbct, np.load(path), 30, work))))
    volumes.append(("head CT vtk_headsq, 93x64x64", normalise(read_mha(head))))
    return volumes


def c_denoise(cbct, model, noisy, sigma, work, patch, overlap):
    src, dst = os.path.join(work, "noisy.npy"), os.path.join(work, "out.npy")
    np.save(src, noisy.astype(np.float32))
    start = time.time()
    subprocess.run([cbct, "denoise", "--model", model, "--sigma", repr(sigma), "--patch", patch,
                    "--overlap", overlap, "-i", src, "-o", dst, "--quiet", "--threads", "2"],
                   check=True)
    return np.load(dst), time.time() - start


def load_torch(model):
    with open(model, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    state = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        state[name] = torch.from_numpy(np.frombuffer(data[begin:end], "<f4").copy()
                                       .reshape(info["shape"]))
    net = DRUNet(3, 1, 1, CHANNELS, NB).eval()
    net.load_state_dict(state)
    return net


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cbct", default="build/cbct")
    parser.add_argument("--model", default="models/drunet3d_small.safetensors")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--head", default=HEAD, help="vtk_headsq.mha")
    args = parser.parse_args()
    torch.set_num_threads(2)
    rng = np.random.default_rng(args.seed)
    rows, worst_gain, times = [], np.inf, []
    with tempfile.TemporaryDirectory() as work:
        volumes = held_out(args.cbct, args.head, work)
        for name, clean in volumes:
            for sigma in SIGMAS:
                noisy = clean + sigma * rng.standard_normal(clean.shape).astype(np.float32)
                out, seconds = c_denoise(args.cbct, args.model, noisy, sigma, work,
                                         str(PATCH), str(OVERLAP))
                times.append(seconds)
                before, after = psnr(clean, noisy), psnr(clean, out)
                worst_gain = min(worst_gain, after - before)
                rows.append("| %s | %.2f | %.2f | %.2f | %+.2f |" %
                            (name, sigma, before, after, after - before))
                print(rows[-1], flush=True)

        # PyTorch against the C engine: whole volumes in one window.
        net = load_torch(args.model)
        diffs = []
        for name, clean in (volumes[0], volumes[-1]):
            noisy = clean + 0.03 * rng.standard_normal(clean.shape).astype(np.float32)
            shape = ",".join(str(s) for s in clean.shape)
            c_out, _ = c_denoise(args.cbct, args.model, noisy, 0.03, work, shape, "0")
            with torch.no_grad():
                t_out = net(torch.from_numpy(noisy)[None, None], 0.03)[0, 0].numpy()
            diffs.append(float(np.abs(c_out - t_out).max()))
            print("%s: max |C - PyTorch| = %.2e" % (name, diffs[-1]))

    print("\n| volume | sigma | PSNR noisy (dB) | PSNR denoised (dB) | gain (dB) |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))
    print("\nsmallest gain %.2f dB; C denoise %.1f s per volume on average (--patch %d "
          "--overlap %d, 2 threads)" % (worst_gain, np.mean(times), PATCH, OVERLAP))
    ok = worst_gain > 0 and max(diffs) <= 1e-4
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
