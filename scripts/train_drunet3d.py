"""Trains the small 3D DRUNet shipped in models/drunet3d_small.safetensors.

A 3D DRUNet (channels 16/32/64/128, nb = 2, bias-free, the KAIR / deepinv
parameter names; the class is scripts/drunet_reference.py's) is trained on
random patches of procedural volumes, all normalised to [0, 1] (the solver
rescales volumes to [0, 1] before it denoises them):
  - walnuts of `cbct phantom --kind walnut` (seeds 1..N_WALNUTS),
  - random ellipsoid sets (Shepp-Logan-like heads drawn from the seed),
  - FDK reconstructions of sparse-view scans of some of them (streaks),
plus Gaussian noise of sigma uniform in [0, 0.1] (the noise-level map is
the net's second input channel, as in DRUNet). Loss L1, Adam.

The net starts as the identity (see identity_init): with a CPU budget of a
few hundred iterations a net trained from scratch does not even learn to
copy its input, let alone beat sigma = 0.01 noise.

Reproducible from --seed: volumes, patch positions, flips, noise and the
initial weights come from seeded generators in a fixed order. PyTorch's CPU
convolutions may round differently with another thread count (--threads)
or another machine, so the weights then agree only to float rounding.

    /usr/bin/python3 scripts/train_drunet3d.py --cbct build/cbct \
        --out models/drunet3d_small.safetensors

Needs torch and numpy (scripts/install-python-tools.sh); the volumes come
from the cbct CLI (--cbct).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from drunet_reference import DRUNet, write_safetensors  # noqa: E402  (also checks imports)

import numpy as np  # noqa: E402
import torch  # noqa: E402

CHANNELS = (16, 32, 64, 128)
NB = 2
VOLUME = 64          # training volumes are VOLUME^3 voxels
N_WALNUTS = 8        # walnut seeds 1..N_WALNUTS (evaluation uses seeds >= 1000)
N_ELLIPSOID_SETS = 8
N_FDK = 8            # sparse-view reconstructions (of the first walnuts and ellipsoid sets)
SIGMA_MAX = 0.1


def normalise(volume):
    """To [0, 1] by the volume's own minimum and maximum."""
    volume = volume.astype(np.float64)
    low, high = volume.min(), volume.max()
    return ((volume - low) / max(high - low, 1e-12)).astype(np.float32)


def ellipsoid_set(rng, n):
    """A Shepp-Logan-like head: an outer shell, a skull-like inner
    ellipsoid and 6..12 random inner ellipsoids with random rotations and
    densities (added, as in Shepp-Logan), on an n^3 grid of [-1, 1]^3."""
    axis = (np.arange(n) + 0.5) / n * 2 - 1
    z, y, x = np.meshgrid(axis, axis, axis, indexing="ij")
    points = np.stack([z, y, x], -1)
    volume = np.zeros((n, n, n))
    outer = rng.uniform(0.6, 0.9, 3)
    shells = [(np.zeros(3), outer, np.eye(3), 1.0),
              (np.zeros(3), outer * rng.uniform(0.85, 0.95), np.eye(3), -rng.uniform(0.6, 0.8))]
    inner = []
    for _ in range(rng.integers(6, 13)):
        rotation, _ = np.linalg.qr(rng.normal(size=(3, 3)))
        inner.append((rng.uniform(-0.5, 0.5, 3) * outer, rng.uniform(0.04, 0.35, 3), rotation,
                      rng.uniform(-0.15, 0.3)))
    for centre, semi_axes, rotation, density in shells + inner:
        local = (points - centre) @ rotation / semi_axes
        volume += density * ((local ** 2).sum(-1) <= 1)
    return np.clip(volume, 0, None)


def run_cbct(cbct, *args):
    subprocess.run([cbct, *args, "--quiet", "--threads", "2"], check=True)


def fdk_sparse(cbct, volume_mu, n_views, work):
    """FDK of a sparse circular scan of a volume in 1/mm (64^3 at 2 mm)."""
    n = volume_mu.shape[0]
    paths = {k: os.path.join(work, k) for k in ("geom.json", "vol.npy", "proj.npy", "rec.npy")}
    np.save(paths["vol.npy"], volume_mu.astype(np.float32))
    run_cbct(cbct, "geometry", "circular", "--views", str(n_views), "--det", "96,96",
             "--pixel", "3.2", "--volume", str(n), "-o", paths["geom.json"])
    run_cbct(cbct, "project", "--geometry", paths["geom.json"], "--volume", paths["vol.npy"],
             "-o", paths["proj.npy"])
    run_cbct(cbct, "fdk", "--geometry", paths["geom.json"], "--projections", paths["proj.npy"],
             "-o", paths["rec.npy"])
    return np.load(paths["rec.npy"])


def make_volumes(cbct, rng, work):
    """The training volumes, each normalised to [0, 1], and their names."""
    volumes, names, raw = [], [], []
    for seed in range(1, N_WALNUTS + 1):
        path = os.path.join(work, "walnut.npy")
        run_cbct(cbct, "phantom", "--kind", "walnut", "--shape", str(VOLUME), "--seed", str(seed),
                 "-o", path)
        raw.append(np.load(path))
        names.append("walnut seed %d" % seed)
    for i in range(N_ELLIPSOID_SETS):
        raw.append(0.02 * ellipsoid_set(rng, VOLUME))  # 1/mm, as cbct phantom writes
        names.append("ellipsoid set %d" % i)
    volumes = [normalise(v) for v in raw]
    # Sparse-view FDK of walnuts and ellipsoid sets in turn: streaks, ringing.
    for i in range(N_FDK):
        source = (i // 2) if i % 2 == 0 else N_WALNUTS + i // 2
        n_views = int(rng.integers(16, 61))
        volumes.append(normalise(fdk_sparse(cbct, raw[source], n_views, work)))
        names.append("FDK %d views of %s" % (n_views, names[source]))
    return volumes, names


def identity_init(net, generator):
    """PyTorch's default initialisation, then: the last conv of every
    residual block and the transposed conv of m_up1 set to zero (Fixup /
    ReZero style), and channel 0 of m_head and m_tail a centred delta on
    the image, so that the net starts as exactly out = in."""
    with torch.no_grad():
        for p in net.parameters():  # the default init, drawn from our generator
            fan_in = p[0].numel() if p.dim() > 1 else 1
            bound = 1.0 / fan_in ** 0.5
            p.copy_((torch.rand(p.shape, generator=generator) * 2 - 1) * bound)
        for name, p in net.named_parameters():
            if name.endswith("res.2.weight") or name == "m_up1.0.weight":
                p.zero_()
        net.m_head.weight[0].zero_()
        net.m_head.weight[0, 0, 1, 1, 1] = 1.0
        net.m_tail.weight.zero_()
        net.m_tail.weight[0, 0, 1, 1, 1] = 1.0


def sample_batch(volumes, rng, batch, patch):
    """Random patches with random flips and axis transpositions, seeded noise."""
    clean = np.empty((batch, 1) + patch, np.float32)
    for b in range(batch):
        v = volumes[rng.integers(len(volumes))]
        corner = [rng.integers(0, s - p + 1) for s, p in zip(v.shape, patch)]
        cube = v[tuple(slice(c, c + p) for c, p in zip(corner, patch))]
        for axis in range(3):
            if rng.random() < 0.5:
                cube = np.flip(cube, axis)
        if patch[0] == patch[1] == patch[2]:
            cube = np.transpose(cube, rng.permutation(3))
        clean[b, 0] = cube
    sigma = rng.uniform(0, SIGMA_MAX, batch).astype(np.float32)
    noisy = clean + sigma[:, None, None, None, None] * rng.standard_normal(clean.shape,
                                                                          dtype=np.float32)
    return torch.from_numpy(noisy), torch.from_numpy(clean), torch.from_numpy(sigma)


def forward(net, noisy, sigma):
    """DRUNet with one noise level per patch of the batch (the reference
    forward takes a scalar): the level map is concatenated here."""
    level = sigma.view(-1, 1, 1, 1, 1).expand(-1, 1, *noisy.shape[2:])
    return net.forward_unet(torch.cat((noisy, level), 1))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cbct", default="build/cbct", help="the cbct CLI")
    parser.add_argument("--out", default="models/drunet3d_small.safetensors")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--iters", type=int, default=400)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--patch", type=int, default=32, help="cubic patch side (multiple of 8, >= 32)")
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--log", default=None, help="loss log (json); default: OUT.log.json")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    start = time.time()
    with tempfile.TemporaryDirectory() as work:
        volumes, names = make_volumes(args.cbct, rng, work)
    data_s = time.time() - start
    print("%d training volumes in %.0f s" % (len(volumes), data_s), flush=True)

    net = DRUNet(3, 1, 1, CHANNELS, NB)
    identity_init(net, generator)
    optimiser = torch.optim.Adam(net.parameters(), lr=args.lr)
    # The learning rate drops 5x for the last quarter of the iterations.
    schedule = torch.optim.lr_scheduler.MultiStepLR(optimiser, [args.iters * 3 // 4], 0.2)
    patch = (args.patch,) * 3
    losses = []
    train_start = time.time()
    for it in range(1, args.iters + 1):
        noisy, clean, sigma = sample_batch(volumes, rng, args.batch, patch)
        loss = (forward(net, noisy, sigma) - clean).abs().mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
        losses.append(float(loss))
        if it % 25 == 0 or it == args.iters:
            print("iter %4d  L1 (mean of last 25) %.5f  %.0f s" %
                  (it, np.mean(losses[-25:]), time.time() - train_start), flush=True)
    train_s = time.time() - train_start

    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    metadata = {"format": "pt", "arch": "drunet3d", "channels": ",".join(map(str, CHANNELS)),
                "nb": str(NB), "seed": str(args.seed), "iters": str(args.iters),
                "trainer": "scripts/train_drunet3d.py"}
    write_safetensors(args.out, dict(net.state_dict()), "F32", metadata)
    log = {"args": vars(args), "volumes": names, "data_seconds": data_s,
           "train_seconds": train_s, "l1_per_iter": losses}
    with open(args.log or args.out + ".log.json", "w") as f:
        json.dump(log, f)
    print("wrote %s (%d bytes); training %.0f s" % (args.out, os.path.getsize(args.out), train_s))


if __name__ == "__main__":
    main()
