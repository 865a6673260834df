#!/usr/bin/python3
"""Cost model of one PnP iteration of `cbct recon` on P MPI ranks (issue 6).

Per iteration and rank it counts
  - projector work: voxel-ray updates (ray samples that touch a voxel) of
    the two passes of the gradient, A x (forward) then A^T r (adjoint),
    split by views (distribute_physics: blocks of views round-robin) or by
    z-slab (distribute_volume: each rank samples only its slab's rows);
  - denoiser work: the padded DRUNet windows (patch + 2 overlap, padded as
    cbct_drunet_padded_shape does) that the rank denoises;
  - communication: the payload the code sends (what record.json's
    bytes_sent counts) and the bytes on the wire of a ring all-reduce,
    2 (P - 1) / P x payload, at a given bandwidth and latency;
  - memory: the arrays of src/solvers/pnp.c, src/solvers/operator.c and
    tools/cbct/cmd_recon.c, whole or split, plus the DRUNet's working set.
Rates (seconds per update and per padded voxel, per core) are calibrated
twice: for the check on this machine on each mode's 1-rank runs of
bench/scaling.sh (wall seconds, under the same load as the 2-rank runs it
predicts), and for the reference-size table on CPU seconds of the projector
passes and of denoiser windows measured at that size (docs/benchmarks.md,
"Reference size"; options --ref-*). Prints Markdown tables (docs/scaling.md).

  /usr/bin/python3 scripts/scaling_model.py --measured out/scaling/summary.json \
      [--bandwidth-gbs 10] [--latency-us 5] [--cores-per-rank 2] [--json OUT]
"""
import argparse
import json
import math
import statistics

import numpy as np

F32 = 4
MIB = 2.0**20
GIB = 2.0**30

# DRUNet working set per padded window voxel, bytes: fitted to
# cbct_drunet_peak_bytes of models/drunet3d_small.safetensors (16/32/64/128
# channels) on 16 x 128 x 128 windows (bench_drunet --model: 83.9, 134.3,
# 234.9 MB at batch 1, 2, 4 = 128 + 192 x batch bytes per padded voxel).
DRUNET_BYTES_PER_VOXEL_BATCH = 192.0
DRUNET_BYTES_PER_VOXEL_FIXED = 128.0
# The shipped model's weights, on every rank (models/drunet3d_small.safetensors).
WEIGHTS_BYTES = 12419616
# `cbct backproject` at the reference size (docs/benchmarks.md).
REF_BACKPROJECT_CPU_S = 72.38
# Padding of the network input (src/nn/drunet_pad.c): every axis is padded
# to a multiple of 16 unless all are multiples of 8 and at least 32.
PAD_DIVISOR, PAD_MODULO, PAD_MIN = 8, 16, 32


class Problem:
    """Volume, circular cone-beam scan and denoiser tiling."""

    def __init__(self, shape, voxel_mm, views, det, pixel_mm, sod, sdd, blocks, patch,
                 overlap, batch, has_truth=True):
        self.shape, self.voxel, self.views = list(shape), voxel_mm, views
        self.det, self.pixel, self.sod, self.sdd = list(det), pixel_mm, sod, sdd
        self.blocks, self.patch, self.overlap, self.batch = blocks, list(patch), list(overlap), batch
        self.has_truth = has_truth
        self.drunet_bytes = {}  # batch -> cbct_drunet_peak_bytes, when known

    @property
    def voxels(self):
        return self.shape[0] * self.shape[1] * self.shape[2]

    def updates_per_pass(self, samples=60000, seed=1):
        """Voxel-ray updates of one projector pass over all views: for each
        view, the voxels inside the detector's cone times the rays per voxel
        cross-section there ((voxel / pixel at that depth)^2), estimated on
        random points of the volume."""
        rng = np.random.default_rng(seed)
        nz, ny, nx = self.shape
        p = (rng.random((samples, 3)) - 0.5) * np.array([nz, ny, nx]) * self.voxel
        total = 0.0
        for k in range(self.views):
            a = 2 * math.pi * k / self.views
            # source on a circle in the x-y plane; depth along the central ray
            depth = self.sod + p[:, 2] * math.cos(a) + p[:, 1] * math.sin(a)
            lateral = -p[:, 2] * math.sin(a) + p[:, 1] * math.cos(a)
            mag = self.sdd / depth
            u, v = lateral * mag, p[:, 0] * mag
            inside = (np.abs(u) < self.det[1] * self.pixel / 2) & (np.abs(v) < self.det[0] * self.pixel / 2)
            rays_per_voxel = (self.voxel * mag / self.pixel) ** 2
            total += np.mean(inside * rays_per_voxel)
        return total * self.voxels

    def windows(self):
        counts = [math.ceil(s / min(p, s)) for s, p in zip(self.shape, self.patch)]
        win = [min(p, s) + 2 * o for s, p, o in zip(self.shape, self.patch, self.overlap)]
        safe = all(w % PAD_DIVISOR == 0 and w >= PAD_MIN for w in win)
        padded = win if safe else [math.ceil(w / PAD_MODULO) * PAD_MODULO for w in win]
        return counts, win, padded

    def block_views(self):
        return [(b + 1) * self.views // self.blocks - b * self.views // self.blocks
                for b in range(self.blocks)]


def slab_rows(depth, align, ranks):
    """Rows per rank of cbct_slab_split: aligned groups spread evenly."""
    groups = math.ceil(depth / align)
    per = [groups // ranks + (1 if r < groups % ranks else 0) for r in range(ranks)]
    rows, z = [], 0
    for g in per:
        n = min(g * align, depth - z)
        rows.append(max(n, 0))
        z += n
    return rows


def per_rank(pb, ranks, mode, rates, bandwidth, latency, cores=2):
    """Predicted seconds and bytes of one PnP iteration on the busiest rank
    of `ranks`, each with `cores` cores (rates are per core-second: the
    work of a rank is shared by its threads without loss)."""
    counts, win, padded = pb.windows()
    n_windows = counts[0] * counts[1] * counts[2]
    pad_vox = padded[0] * padded[1] * padded[2]
    win_vox = win[0] * win[1] * win[2]
    row_vox = pb.shape[1] * pb.shape[2]
    view_px = pb.det[0] * pb.det[1]
    bviews = pb.block_views()
    upd = rates["updates_per_pass"]
    if mode == "physics" and ranks > 1:
        # blocks round-robin: the busiest rank's share of views
        mine = [sum(bviews[b] for b in range(r, pb.blocks, ranks)) for r in range(ranks)]
        frac_phys = max(mine) / pb.views
        local_views = max(mine)
        my_windows = math.ceil(n_windows / ranks)
        nz = pb.shape[0]
        payload = 2 * pb.voxels * F32 + 8  # gradient and denoised volume sums, ||r||^2
        n_reduce = 2
        halo_rows = 0
    elif mode == "volume" and ranks > 1:
        rows = slab_rows(pb.shape[0], min(pb.patch[0], pb.shape[0]), ranks)
        nz = max(rows)
        frac_phys = nz / pb.shape[0]
        local_views = pb.views  # every rank holds every view
        my_windows = math.ceil(nz / min(pb.patch[0], pb.shape[0])) * counts[1] * counts[2]
        # the partial projections of each block summed per forward pass;
        # halo rows of the denoiser's input from the neighbours
        halo_rows = 2 * pb.overlap[0]
        payload = pb.views * view_px * F32 + halo_rows * row_vox * F32 + 8 + 16
        n_reduce = pb.blocks + 1
    else:
        frac_phys, local_views, my_windows, nz = 1.0, pb.views, n_windows, pb.shape[0]
        payload, n_reduce, halo_rows = 0, 0, 0
    grad = rates["s_per_update"] * 2 * upd * frac_phys / cores
    den = rates["s_per_padded_voxel"] * my_windows * pad_vox / cores
    wire = 2 * (ranks - 1) / ranks * payload if ranks > 1 else 0
    # a ring all-reduce: 2 (P - 1) steps per reduction
    comm = wire / bandwidth + n_reduce * 2 * (ranks - 1) * latency if ranks > 1 else 0
    # memory of the rank during PnP (tracked allocator), bytes
    vol_local = nz * row_vox * F32
    volumes = 5  # x and init (cmd_recon.c), z, denoised, unit (pnp.c)
    if pb.has_truth:
        volumes += 1  # ground truth, this rank's rows
    proj = local_views * view_px * F32 + max(bviews) * view_px * F32  # y and one block's scratch
    batch = min(pb.batch, max(my_windows, 1))
    drunet = pb.drunet_bytes.get(batch) or \
        (DRUNET_BYTES_PER_VOXEL_BATCH * batch + DRUNET_BYTES_PER_VOXEL_FIXED) * pad_vox
    windows_io = 2 * batch * win_vox * F32
    halo = (nz + halo_rows) * row_vox * F32 if mode == "volume" and ranks > 1 else 0
    mem_pnp = volumes * vol_local + proj + drunet + windows_io + halo + WEIGHTS_BYTES
    # before PnP each rank makes the dataset (tools/cbct/recon_dataset.c):
    # the truth (whole, or its slab with distribute_volume) and all views;
    # then the initialisation adds x and init
    truth_rows = nz if mode == "volume" and ranks > 1 else pb.shape[0]
    mem_setup = (truth_rows * row_vox * F32 + pb.views * view_px * F32 + 2 * vol_local)
    slabs = math.ceil(pb.shape[0] / min(pb.patch[0], pb.shape[0]))
    return {"ranks": ranks, "mode": mode, "cores": cores,
            "refused": mode == "volume" and ranks > slabs, "seconds_gradient": grad, "seconds_denoiser": den,
            "seconds_communication": comm, "seconds_total": grad + den + comm,
            "payload_bytes": payload, "wire_bytes": wire, "windows": my_windows,
            "mem_pnp_bytes": mem_pnp, "mem_setup_bytes": mem_setup,
            "mem_peak_bytes": max(mem_pnp, mem_setup), "drunet_bytes": drunet}


def bench_problem(s):
    """The problem of bench/scaling.sh (tools/cbct/recon_dataset.c's fit)."""
    n = s["size"]
    voxel = 128.0 / n
    det = math.ceil(1.25 * n)
    return Problem([n] * 3, voxel, s["views"], [det, det], 1.6 * voxel, 400.0, 800.0,
                   s["num_operators"], s["patch"], s["overlap"], s["max_batch"])


def reference_problem(blocks=2):
    """configs/tomography_3d_walnut.yml."""
    pb = Problem([501] * 3, 0.1, 50, [972, 768], 0.1496, 66.0, 199.0, blocks,
                 [8, 256, 256], [2, 16, 16], 4)
    # cbct_drunet_peak_bytes on 12 x 288 x 288 windows (padded 16 x 288 x
    # 288), batch 4: `cbct denoise --verbose` predicts 1.02 GiB with the
    # two batch buffers of windows (30.4 MiB)
    pb.drunet_bytes[4] = 1.02 * GIB - 2 * 4 * 12 * 288 * 288 * F32
    return pb


def calibrate(summary, pb):
    """Rates per core-second from the 1-rank runs (median over runs) of
    bench/scaling.sh: wall seconds x cores / work, under whatever load the
    machine had (docs/scaling.md gives it)."""
    one = [r for m in summary["modes"].values() for r in m["runs"] if r["ranks"] == 1]
    grad = statistics.median(r["seconds_gradient"] for r in one)
    den = statistics.median(r["seconds_denoiser"] for r in one)
    counts, win, padded = pb.windows()
    pad_total = counts[0] * counts[1] * counts[2] * padded[0] * padded[1] * padded[2]
    upd = pb.updates_per_pass()
    cores = summary["cores"]
    return {"updates_per_pass": upd, "s_per_update": grad * cores / (2 * upd),
            # the element-wise passes (rescale, blend, clip, copies) are
            # folded into the network's rate: one free parameter
            "s_per_padded_voxel": den * cores / pad_total,
            "calibrated_on": {"seconds_gradient": grad, "seconds_denoiser": den,
                              "padded_voxels": pad_total, "cores": cores}}


def calibrate_reference(pb, a):
    """Rates per core-second from CPU seconds (user + sys, threads waiting
    passively) of the reference-size components on this machine: `cbct
    project` + `cbct backproject` (one pass each) and `cbct denoise` of a
    16-row slab (8 of the 252 windows). CPU seconds do not grow with the
    machine's load the way wall seconds do."""
    counts, win, padded = pb.windows()
    upd = pb.updates_per_pass()
    return {"updates_per_pass": upd,
            "s_per_update": (a.ref_project_cpu_s + a.ref_backproject_cpu_s) / (2 * upd),
            "s_per_padded_voxel": a.ref_denoise_cpu_s / (a.ref_denoise_windows * padded[0] * padded[1] * padded[2])}


def fmt_mib(v):
    return f"{v / MIB:.0f}"


def check_two_ranks(s, pb, rates, a, out):
    """Predicted against measured, 2 ranks x cores/2 threads on this machine."""
    cores = s["cores"]
    print("\n| mode | P | | gradient s | denoiser s | communication s | total s | comm % | MiB sent/it/rank | tracked peak MiB/rank |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for mode, m in s["modes"].items():
        two = [r for r in m["runs"] if r["ranks"] == 2]
        one = [r for r in m["runs"] if r["ranks"] == 1]
        if not two:
            continue
        # each mode's rates from its own 1-rank runs, measured beside its
        # 2-rank runs (the machine's load drifts between modes)
        rates = calibrate({"modes": {mode: m}, "cores": cores}, pb)
        out["rates_" + mode] = rates
        print(f"\n{mode}: {rates['s_per_update'] * 1e9:.1f} ns per voxel-ray update and"
              f" {rates['s_per_padded_voxel'] * 1e6:.1f} us per padded voxel, per core\n")
        keys = ("seconds_gradient", "seconds_denoiser", "seconds_communication", "seconds_total")
        meas = {k: statistics.median(r[k] for r in two) for k in keys}
        meas1 = {k: statistics.median(r[k] for r in one) for k in keys}
        sent = statistics.median(max(r["bytes_sent_per_iteration"]) for r in two)
        peak = statistics.median(max(r["mem_peak_bytes"]) for r in two)
        peak1 = statistics.median(r["mem_peak_bytes"][0] for r in one)
        p0 = per_rank(pb, 2, mode, rates, 1e30, 0, cores // 2)
        # shared-memory MPI: an assumed bandwidth; the measured time also
        # holds the wait for the slower rank (printed: the bandwidth that
        # would explain the measured time)
        bw = a.local_bandwidth_gbs * 1e9
        p = per_rank(pb, 2, mode, rates, bw, 0, cores // 2)
        apparent = p0["wire_bytes"] / meas["seconds_communication"] if meas["seconds_communication"] > 0 else float("inf")
        p1 = per_rank(pb, 1, mode, rates, bw, 0, cores)
        rows = (("1", "predicted", p1, 0, p1["mem_peak_bytes"]), ("1", "measured", meas1, 0, peak1),
                ("2", "predicted", p, p["payload_bytes"], p["mem_peak_bytes"]),
                ("2", "measured", meas, sent, peak))
        for ranks, label, v, snt, pk in rows:
            share = 100 * v["seconds_communication"] / v["seconds_total"]
            print(f"| {mode} | {ranks} | {label} | {v['seconds_gradient']:.2f} | {v['seconds_denoiser']:.2f} |"
                  f" {v['seconds_communication']:.2f} | {v['seconds_total']:.2f} | {share:.1f} |"
                  f" {snt / MIB:.1f} | {fmt_mib(pk)} |")
        print(f"\n{mode}: the measured communication time moves the bytes at {apparent / 1e9:.3f} GB/s;"
              f" predicted with {bw / 1e9:g} GB/s (shared memory)")
        out["check"].append({"mode": mode, "predicted": p, "measured": meas,
                             "measured_bytes_per_iteration": sent, "measured_peak": peak,
                             "bandwidth": bw, "predicted_1rank": p1, "measured_1rank": meas1,
                             "measured_1rank_peak": peak1})


def reference_table(rates, a, out):
    bw, lat = a.bandwidth_gbs * 1e9, a.latency_us * 1e-6
    print(f"\nPredicted per PnP iteration at the reference size, {a.cores_per_rank} cores per rank,"
          f" network {a.bandwidth_gbs:g} GB/s, {a.latency_us:g} us per step; num_operators ="
          f" min(max(2, P), 50) so that every rank has views:")
    print("\n| P | mode | gradient s | denoiser s | communication s | total s | comm % | speed-up |"
          " MiB sent/it/rank | tracked peak GiB/rank (PnP / setup) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    base = {}
    for mode in ("physics", "volume"):
        for ranks in (1, 2, 4, 8, 16, 32, 64):
            pbr = reference_problem(blocks=min(max(2, ranks), 50))
            p = per_rank(pbr, ranks, mode, rates, bw, lat, a.cores_per_rank)
            out["reference"].append(p)
            if p["refused"]:
                print(f"| {ranks} | {mode} | refused: more ranks than the 63 slabs of 8 rows |||||||||")
                continue
            base.setdefault(mode, p["seconds_total"])
            share = 100 * p["seconds_communication"] / p["seconds_total"]
            print(f"| {ranks} | {mode} | {p['seconds_gradient']:.1f} | {p['seconds_denoiser']:.1f} |"
                  f" {p['seconds_communication']:.2f} | {p['seconds_total']:.1f} | {share:.1f} |"
                  f" {base[mode] / p['seconds_total']:.2f} | {p['payload_bytes'] / MIB:.0f} |"
                  f" {p['mem_pnp_bytes'] / GIB:.2f} / {p['mem_setup_bytes'] / GIB:.2f} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--measured", required=True, help="summary.json of bench/scaling.sh")
    ap.add_argument("--bandwidth-gbs", type=float, default=10.0, help="network, GB/s (reference table)")
    ap.add_argument("--latency-us", type=float, default=5.0, help="per message step, microseconds")
    ap.add_argument("--cores-per-rank", type=int, default=2, help="reference table")
    ap.add_argument("--local-bandwidth-gbs", type=float, default=5.0,
                    help="shared-memory MPI bandwidth of this machine for the 2-rank check (assumed)")
    # Reference-size components measured on this machine (docs/benchmarks.md,
    # "Reference size"): CPU seconds, user + sys, OMP_WAIT_POLICY=passive.
    ap.add_argument("--ref-project-cpu-s", type=float, default=56.97)
    ap.add_argument("--ref-backproject-cpu-s", type=float, default=REF_BACKPROJECT_CPU_S)
    ap.add_argument("--ref-denoise-cpu-s", type=float, default=30.43)
    ap.add_argument("--ref-denoise-windows", type=int, default=8)
    ap.add_argument("--json", help="write predictions and measurements here")
    a = ap.parse_args()
    s = json.load(open(a.measured))
    pb = bench_problem(s)
    rates = calibrate(s, pb)
    out = {"rates": rates, "check": [], "reference": []}
    print(f"Bench problem: {s['size']}^3, {rates['updates_per_pass'] / 1e9:.3f} G voxel-ray updates per"
          f" pass; rates calibrated per mode on its 1-rank runs ({s['cores']} cores)")
    check_two_ranks(s, pb, rates, a, out)

    ref = reference_problem()
    rref = calibrate_reference(ref, a)
    out["rates_reference"] = rref
    # what the bench's rates say about the reference size, against the
    # components measured there (CPU seconds = core-seconds)
    bench_at_ref = dict(rates, updates_per_pass=rref["updates_per_pass"])
    p_bench = per_rank(ref, 1, "physics", bench_at_ref, 1e30, 0, 1)
    p_comp = per_rank(ref, 1, "physics", rref, 1e30, 0, 1)
    print(f"\nReference size: {rref['updates_per_pass'] / 1e9:.1f} G voxel-ray updates per pass;"
          f" {rref['s_per_update'] * 1e9:.2f} ns per update and"
          f" {rref['s_per_padded_voxel'] * 1e6:.2f} us per padded voxel per core (components);"
          f" core-seconds per iteration: gradient {p_comp['seconds_gradient']:.0f} (bench rates:"
          f" {p_bench['seconds_gradient']:.0f}), denoiser {p_comp['seconds_denoiser']:.0f}"
          f" (bench rates: {p_bench['seconds_denoiser']:.0f});"
          f" tracked PnP working set {p_comp['mem_pnp_bytes'] / GIB:.2f} GiB")
    reference_table(rref, a, out)
    if a.json:
        json.dump(out, open(a.json, "w"), indent=1)


if __name__ == "__main__":
    main()
