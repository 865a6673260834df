#!/usr/bin/env python3
"""cbct and RTK side by side: the same circular cone-beam geometry, the same
Shepp-Logan volume, the same thread count, in one run.

For each case (volume N^3, V views, detector R x C) it
  1. writes the phantom and the geometry with cbct's CLI
     (`cbct phantom --kind shepp-logan`, `cbct geometry circular`);
  2. times cbct's library in-process (bench/bench_ops: forward Joseph,
     matched adjoint, FDK's voxel-driven back-projection, FDK; file I/O
     excluded, median of --repeat runs) and keeps its outputs;
  3. builds the equivalent RTK geometry (bench/peers/rtk_geometry.py; checked
     point by point against RTK's projection matrices), and times RTK's
     JosephForwardProjectionImageFilter, JosephBackProjectionImageFilter,
     BackProjectionImageFilter (voxel-based, no weights),
     FDKBackProjectionImageFilter (voxel-based, FDK's distance weights: the
     counterpart of cbct's) and FDKConeBeamReconstructionFilter (ram-lak) on
     the same arrays: Update() only, median of --repeat runs;
  4. compares the outputs (relative RMSE, cbct's output as reference) and
     each FDK against the phantom;
and prints JSON with the time ratios (RTK seconds / cbct seconds: above 1
means cbct is faster), in wall time and in CPU time of each process (all
threads; on a shared machine the wall time grows with the load, the CPU time
much less), and the load average before and after each case.

Usage (after scripts/install-peers.sh):
  ~/.cache/cbct-peers/bin/python bench/peers/rtk_vs_cbct.py \
      --cbct build/cbct --bench-ops build/bench/bench_ops \
      [--cases 128x50,128x360,256x50,256x360,256x50@972x768] [--threads 2] \
      [--repeat 3] [--work DIR] [--output results.json]
A case is NxV (detector: N + N/4 square, pitch so that it spans 2.5 x 128 mm)
or NxV@RxC (R rows, C columns). 512x50 and 512x360 are accepted but take long
on 2 cores. --output is rewritten after every case. To stop a run, signal
its process group (Ctrl-C, or kill -- -PGID): killing the Python process
alone leaves a running bench_ops behind, which then skews other timings.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

THREADS_DEFAULT = 2
# ITK reads these when it is imported: set them before the import.
os.environ.setdefault("ITK_GLOBAL_DEFAULT_NUMBER_OF_THREADS", str(THREADS_DEFAULT))

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# The scene of `cbct phantom` is a 128 mm cube; the scan of `cbct geometry
# circular` defaults: source-axis 400 mm, source-detector 800 mm. The
# detector spans 2.5 x 128 mm so that the magnified (x 2) volume's shadow,
# the cone's widening included, falls on it.
SCENE_MM = 128.0
SOD_MM, SDD_MM = 400.0, 800.0
DETECTOR_SPAN_MM = 2.5 * SCENE_MM
DEFAULT_CASES = "128x50,128x360,256x50,256x360,256x50@972x768"


def parse_case(text):
    size_views, _, det = text.partition("@")
    n, v = (int(x) for x in size_views.split("x"))
    if det:
        rows, cols = (int(x) for x in det.split("x"))
    else:
        rows = cols = n + n // 4
    # Square pixels spanning DETECTOR_SPAN_MM along the shorter side.
    pitch = DETECTOR_SPAN_MM / min(rows, cols)
    return {"name": text, "size": n, "views": v, "rows": rows, "cols": cols, "pitch_mm": pitch}


def run(cmd, env=None):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
    return out.stdout


def rrmse(a, ref):
    """Relative RMSE: ||a - ref|| / ||ref||."""
    a, ref = np.asarray(a, np.float64), np.asarray(ref, np.float64)
    return float(np.sqrt(np.mean((a - ref) ** 2)) / max(np.sqrt(np.mean(ref ** 2)), 1e-30))


def interior(vol, margin):
    """The volume without `margin` voxels on every face (Joseph's border)."""
    m = margin
    return vol[m:-m, m:-m, m:-m] if m else vol


def median_time(update, repeat):
    """Median wall and CPU seconds (the process's, all threads) of update()."""
    runs, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        update()
        runs.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return float(np.median(runs)), float(np.median(cpu)), [round(r, 4) for r in runs]


def time_filter(f, repeat):
    """Times Update() of an ITK filter; Modified() forces each re-run."""
    def update():
        f.Modified()
        f.Update()
    seconds, cpu, runs = median_time(update, repeat)
    return seconds, cpu, runs, f.GetOutput()


def rtk_case(geom_path, vol_path, cbct_out, repeat, threads):
    """RTK's timings and outputs on cbct's geometry and arrays."""
    import itk
    from itk import RTK as rtk
    import rtk_geometry as rg

    itk.MultiThreaderBase.SetGlobalDefaultNumberOfThreads(threads)
    itk.MultiThreaderBase.SetGlobalMaximumNumberOfThreads(threads)
    image_t = rg.IMAGE
    geom = rg.load_geometry(geom_path)
    g = rg.make_rtk_geometry(geom)
    geometry_error_px = rg.check_geometry(geom, g)
    if geometry_error_px > 1e-6:
        raise RuntimeError("RTK geometry differs from cbct's by %g pixels" % geometry_error_px)
    porigin, pspacing = rg.projection_image_grid(geom)
    vorigin, vspacing = rg.volume_grid(geom)
    phantom = np.load(vol_path)
    cbct_proj = np.load(os.path.join(cbct_out, "forward.npy"))
    vol_img = rg.image(rg.volume_to_rtk(phantom), vorigin, vspacing)
    zero_vol = rg.image(np.zeros(rg.volume_to_rtk(phantom).shape, np.float32), vorigin,
                        vspacing)
    zero_proj = rg.image(np.zeros(cbct_proj.shape, np.float32), porigin, pspacing)
    proj_img = rg.image(cbct_proj, porigin, pspacing)
    res = {"geometry_max_error_px": geometry_error_px, "timings": {}, "outputs": {}}

    def timed(name, f, to_numpy):
        f.SetGeometry(g)
        # RTK's projectors run in place (the output takes input 0's buffer):
        # the first run would leave the next ones an empty input.
        if hasattr(f, "SetInPlace"):
            f.SetInPlace(False)
        seconds, cpu, runs, out = time_filter(f, repeat)
        res["timings"][name] = {"median_s": round(seconds, 4), "median_cpu_s": round(cpu, 4),
                                "runs_s": runs}
        res["outputs"][name] = to_numpy(itk.array_from_image(out))
        print("  rtk %-28s %8.3f s" % (name, seconds), file=sys.stderr)

    fwd = rtk.JosephForwardProjectionImageFilter[image_t, image_t].New()
    fwd.SetInput(0, zero_proj)
    fwd.SetInput(1, vol_img)
    timed("forward_joseph", fwd, np.array)
    for name, cls in (("backprojection_joseph", rtk.JosephBackProjectionImageFilter),
                      ("backprojection_voxel", rtk.BackProjectionImageFilter),
                      ("backprojection_voxel_fdk", rtk.FDKBackProjectionImageFilter)):
        bp = cls[image_t, image_t].New()
        bp.SetInput(0, zero_vol)
        bp.SetInput(1, proj_img)
        timed(name, bp, rg.volume_from_rtk)
    fdk = rtk.FDKConeBeamReconstructionFilter[image_t].New()
    fdk.SetInput(0, zero_vol)
    fdk.SetInput(1, proj_img)
    # Ram-lak, as cbct's run: no Hann window, no truncation correction.
    fdk.GetRampFilter().SetHannCutFrequency(0.0)
    fdk.GetRampFilter().SetTruncationCorrection(0.0)
    timed("fdk", fdk, rg.volume_from_rtk)
    return res


def compare(case, ours, peer, phantom, cbct_out):
    """Agreement of RTK's outputs with cbct's (relative RMSE, cbct as the
    reference), and of both FDKs with the phantom."""
    load = lambda name: np.load(os.path.join(cbct_out, name))  # noqa: E731
    fwd = load("forward.npy")
    out = {"forward": rrmse(peer["forward_joseph"], fwd)}
    if os.path.exists(os.path.join(cbct_out, "adjoint.npy")):
        adj = load("adjoint.npy")
        out["adjoint_vs_joseph_bp"] = rrmse(peer["backprojection_joseph"], adj)
        # Joseph's transposes differ most in the outer voxels (see docs).
        out["adjoint_vs_joseph_bp_interior"] = rrmse(interior(peer["backprojection_joseph"], 2),
                                                     interior(adj, 2))
    vbp = load("voxel_bp.npy")
    out["voxel_bp_vs_rtk_fdk_bp"] = rrmse(peer["backprojection_voxel_fdk"], vbp)
    # RTK's plain BackProjectionImageFilter has no distance weight: only its
    # shape can agree with cbct's weighted one; compare after a least-squares
    # scale so the figure says how far the weights alone make them differ.
    plain = peer["backprojection_voxel"].astype(np.float64)
    scale = float(np.sum(plain * vbp) / max(np.sum(plain * plain), 1e-30))
    out["voxel_bp_vs_rtk_plain_bp_scaled"] = rrmse(scale * plain, vbp)
    fdk = load("fdk.npy")
    out["fdk"] = rrmse(peer["fdk"], fdk)
    out["fdk_interior"] = rrmse(interior(peer["fdk"], case["size"] // 8),
                                interior(fdk, case["size"] // 8))
    out["fdk_vs_phantom_cbct"] = rrmse(fdk, phantom)
    out["fdk_vs_phantom_rtk"] = rrmse(peer["fdk"], phantom)
    return {k: round(v, 6) for k, v in out.items()}


def cli_wall(cbct, geom, vol, proj, folder, threads):
    """Wall time of the CLI commands, file I/O and start-up included (one run)."""
    base = ["--threads", str(threads), "--quiet", "--geometry", geom]
    cmds = {"project": [cbct, "project"] + base + ["--volume", vol, "-o",
                                                    os.path.join(folder, "cli_proj.npy")],
            "backproject": [cbct, "backproject"] + base + ["--projections", proj, "-o",
                                                            os.path.join(folder, "cli_bp.npy")],
            "fdk": [cbct, "fdk"] + base + ["--projections", proj, "-o",
                                            os.path.join(folder, "cli_fdk.npy")]}
    out = {}
    for name, cmd in cmds.items():
        t0 = time.perf_counter()
        run(cmd)
        out[name + "_s"] = round(time.perf_counter() - t0, 4)
    return out


def run_case(case, args, work):
    folder = os.path.join(work, case["name"].replace("@", "_"))
    os.makedirs(folder, exist_ok=True)
    vol, geom = os.path.join(folder, "vol.npy"), os.path.join(folder, "geom.json")
    n = case["size"]
    load_before = os.getloadavg()
    run([args.cbct, "phantom", "--quiet", "--kind", "shepp-logan", "--shape", "%d" % n,
         "-o", vol])
    run([args.cbct, "geometry", "circular", "--quiet", "--views", str(case["views"]),
         "--det", "%d,%d" % (case["rows"], case["cols"]), "--pixel", repr(case["pitch_mm"]),
         "--sod", repr(SOD_MM), "--sdd", repr(SDD_MM), "--volume", "%d" % n, "-o", geom])
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    cmd = [args.bench_ops, "--geometry", geom, "--volume", vol, "--out", folder,
           "--threads", str(args.threads), "--repeat", str(args.repeat)]
    if args.skip_adjoint:
        cmd.append("--skip-adjoint")
    ours = json.loads(run(cmd, env=env))
    print("case %s: cbct %s" % (case["name"], {k: v["median_s"] for k, v in ours.items()
                                               if isinstance(v, dict)}), file=sys.stderr)
    peer = rtk_case(geom, vol, folder, args.repeat, args.threads)
    agreement = compare(case, ours, peer["outputs"], np.load(vol), folder)
    t_rtk = peer["timings"]
    pairs = {"forward": ("forward_joseph", "forward"),
             "backprojection_joseph": ("backprojection_joseph", "adjoint"),
             "backprojection_voxel": ("backprojection_voxel", "voxel_backprojection"),
             "backprojection_voxel_fdk": ("backprojection_voxel_fdk", "voxel_backprojection"),
             "fdk": ("fdk", "fdk")}
    ratios = {name: round(t_rtk[r]["median_s"] / ours[c]["median_s"], 2)
              for name, (r, c) in pairs.items() if c in ours}
    # The same ratio in CPU seconds (all threads of each process): on a
    # shared machine it depends much less on what else runs.
    cpu_ratios = {name: round(t_rtk[r]["median_cpu_s"] / ours[c]["median_cpu_s"], 2)
                  for name, (r, c) in pairs.items() if c in ours}
    record = {"case": case, "updates": n ** 3 * case["views"],
              "cbct": {k: v for k, v in ours.items() if isinstance(v, dict)},
              "rtk": t_rtk, "speedup_rtk_over_cbct": ratios,
              "speedup_rtk_over_cbct_cpu_time": cpu_ratios, "agreement_rrmse": agreement,
              "geometry_max_error_px": peer["geometry_max_error_px"],
              "load_average_before": [round(x, 2) for x in load_before],
              "load_average_after": [round(x, 2) for x in os.getloadavg()]}
    if args.cli_wall:
        record["cbct_cli_wall_s"] = cli_wall(args.cbct, geom, vol,
                                             os.path.join(folder, "forward.npy"), folder,
                                             args.threads)
    if not args.keep:
        for name in os.listdir(folder):
            os.remove(os.path.join(folder, name))
        os.rmdir(folder)
    return record


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cbct", default="build/cbct", help="cbct binary")
    parser.add_argument("--bench-ops", default=None,
                        help="bench_ops binary (default: bench/bench_ops next to --cbct)")
    parser.add_argument("--cases", default=DEFAULT_CASES)
    parser.add_argument("--threads", type=int, default=THREADS_DEFAULT)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-adjoint", action="store_true",
                        help="do not time cbct's matched adjoint")
    parser.add_argument("--cli-wall", action="store_true",
                        help="also time the cbct CLI commands once (wall, I/O included)")
    parser.add_argument("--work", default=None, help="folder for the arrays (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the arrays (in --work)")
    parser.add_argument("--output", default=None, help="also write the JSON here")
    args = parser.parse_args()
    if args.threads != THREADS_DEFAULT and \
            os.environ["ITK_GLOBAL_DEFAULT_NUMBER_OF_THREADS"] != str(args.threads):
        os.environ["ITK_GLOBAL_DEFAULT_NUMBER_OF_THREADS"] = str(args.threads)
    if args.bench_ops is None:
        args.bench_ops = os.path.join(os.path.dirname(args.cbct), "bench", "bench_ops")
    import itk
    cases = [parse_case(c) for c in args.cases.split(",") if c]
    records = []
    with tempfile.TemporaryDirectory() as scratch:
        work = args.work or scratch
        for case in cases:
            records.append(run_case(case, args, work))
            if args.output:  # after every case, so a long run keeps what it measured
                write_json(args.output, args, itk, records)
    result = summary(args, itk, records)
    print(json.dumps(result, indent=2))


def summary(args, itk, records):
    return {"threads": args.threads, "repeat": args.repeat, "statistic": "median",
            "cbct_timing": "library in-process (bench_ops), file I/O excluded",
            "rtk_timing": "filter Update() in Python, inputs in memory",
            "cpu_time": "process CPU seconds, all threads (getrusage / time.process_time)",
            "rtk": "itk %s" % itk.Version.GetITKVersion(),
            "cpu": cpu_name(), "cases": records}


def write_json(path, args, itk, records):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(summary(args, itk, records), f, indent=2)
    os.replace(tmp, path)


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


if __name__ == "__main__":
    main()
