#!/usr/bin/env python3
"""DRUNet inference: cbct's engine and PyTorch side by side, same weights,
same input sizes, same thread count, in one run.

Builds a DRUNet in PyTorch (scripts/drunet_reference.py, the parameter names
cbct loads) with seeded random weights, or loads --model (a safetensors file
such as the shipped models/drunet3d_small.safetensors; channels and nb from
its metadata), then for each patch and batch size times:
  - PyTorch (torch.no_grad, float32), each batch in a fresh process, with
    the growth of the resident memory's peak during the forward pass over
    the resident size before it (activations and temporaries; the weights
    are loaded before; the peak is reset through /proc/self/clear_refs);
  - cbct (bench/bench_drunet --model FILE --model-only [--large]): seconds,
    tracked peak bytes (activations and kernel scratch; the weights
    excluded), with the default kernels (Winograd for the 3x3x3 layers) and
    the direct ones (oneDNN) side by side.
--allocator heap runs both sides with glibc's large blocks kept in the heap
(MALLOC_MMAP_MAX_=0, MALLOC_TRIM_THRESHOLD_ large: what the cbct command
sets with mallopt): fresh activations then reuse freed memory instead of
new pages from mmap, whose page faults made PyTorch up to 1.9x slower
here (default: glibc's default policy on both sides).
--rounds R alternates a PyTorch process and a cbct process per case R
times (the best time of each side counts; every round's ratio is kept).
Prints JSON with the ratios (speed-up = torch seconds / cbct seconds, in wall
and in CPU time of each process; memory = cbct peak / torch peak), cbct's
GFLOP/s against the sgemm rate bench_drunet measures in the same run, and
the load average before and after.

Usage (Debian's python3-torch; scripts/install-python-tools.sh, or the
environment of scripts/install-peers.sh):
  /usr/bin/python3 bench/peers/drunet_vs_torch.py --bench build/bench/bench_drunet \
      [--model models/drunet3d_small.safetensors | --channels 64,128,256,512 --nb 4] \
      [--patch 8,128,128 [--patch 8,256,256]] [--batches 1,2,4] [--threads 2] [--repeat 3] \
      [--rounds 2] [--allocator default|heap]
"""
import argparse
import gc
import json
import os
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts"))


def status_bytes(key):
    """VmRSS / VmHWM of this process from /proc (kB)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no %s in /proc/self/status" % key)


def reset_peak_rss():
    """Linux: writing 5 to clear_refs resets the peak (VmHWM) to the
    current resident size, so the next peak is the forward pass's own."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def read_safetensors(path):
    """{name: float32 torch tensor} and the metadata of a safetensors file."""
    import numpy as np
    import torch
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {})
    tensors = {}
    for name, h in header.items():
        begin, end = h["data_offsets"]
        raw = data[begin:end]
        if h["dtype"] == "F32":
            t = torch.from_numpy(np.frombuffer(raw, dtype="<f4").copy())
        elif h["dtype"] in ("F16", "BF16"):
            bits = torch.from_numpy(np.frombuffer(raw, dtype="<i2").copy())
            t = bits.view(torch.float16 if h["dtype"] == "F16" else torch.bfloat16).float()
        else:
            raise ValueError("%s: %s has dtype %s; expected F32, F16 or BF16"
                             % (path, name, h["dtype"]))
        tensors[name] = t.reshape(h["shape"])
    return tensors, meta


def torch_worker(args):
    """Runs in a fresh process: --repeat forward passes (the memory peak of
    the first, the best time of all), prints JSON."""
    import torch
    import drunet_reference as ref
    torch.set_num_threads(args.threads)
    nc = [int(c) for c in args.channels.split(",")]
    net = ref.DRUNet(3, 1, 1, nc, args.nb).eval()
    net.load_state_dict(torch.load(args.state), strict=True)
    d, h, w = [int(v) for v in args.patch.split(",")]
    x = torch.rand((args.worker_batch, 1, d, h, w), generator=torch.Generator().manual_seed(7))
    gc.collect()
    before = status_bytes("VmRSS")
    reset_peak_rss()
    seconds = cpu = peak = None
    for i in range(args.repeat):
        start, cpu_start = time.perf_counter(), time.process_time()
        with torch.no_grad():
            net(x, 0.03)
        s, c = time.perf_counter() - start, time.process_time() - cpu_start
        if i == 0:
            peak = status_bytes("VmHWM")
        seconds = s if seconds is None else min(seconds, s)
        cpu = c if cpu is None else min(cpu, c)
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "peak_growth_bytes": peak - before,
                      "rss_peak_bytes": peak}))


def parse_patch(text):
    return [int(v) for v in text.split(",")]


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bench", required=True, help="path of cbct's bench_drunet")
    parser.add_argument("--model", help="safetensors weights (default: random weights)")
    parser.add_argument("--channels", default="64,128,256,512")
    parser.add_argument("--nb", type=int, default=4)
    parser.add_argument("--patch", action="append",
                        help="patch size D,H,W (repeat for several; default 8,128,128)")
    parser.add_argument("--batches", default="1,2,4")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3,
                        help="forward passes per case on each side; the best time counts")
    parser.add_argument("--rounds", type=int, default=1,
                        help="alternations of the two sides per case (best time counts)")
    parser.add_argument("--allocator", choices=["default", "heap"], default="default",
                        help="glibc's policy for large blocks on both sides (see above)")
    parser.add_argument("--worker-batch", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--state", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker_batch:
        args.patch = args.patch[0]
        return torch_worker(args)
    patches = args.patch or ["8,128,128"]

    import torch
    import drunet_reference as ref
    load_before = os.getloadavg()
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    if args.allocator == "heap":
        env.update(MALLOC_MMAP_MAX_="0", MALLOC_TRIM_THRESHOLD_=str(2**31 - 1))
    with tempfile.TemporaryDirectory() as folder:
        state = os.path.join(folder, "net.pt")
        if args.model:
            tensors, meta = read_safetensors(args.model)
            args.channels = meta.get("channels", args.channels)
            args.nb = int(meta.get("nb", args.nb))
            weights = os.path.abspath(args.model)
            torch.save(tensors, state)
        else:
            generator = torch.Generator().manual_seed(args.seed)
            nc = [int(c) for c in args.channels.split(",")]
            net = ref.build((3, 1, 1, nc, args.nb), generator)
            weights = os.path.join(folder, "net.safetensors")
            ref.write_safetensors(weights, {k: v for k, v in net.state_dict().items()})
            torch.save(net.state_dict(), state)
        nc = [int(c) for c in args.channels.split(",")]
        batches = [int(b) for b in args.batches.split(",")]
        # Each case alternates a PyTorch process and a cbct process, for
        # --rounds rounds: a slow phase of a shared machine then falls on
        # both sides instead of on whichever ran then. Best time per side.
        torch_runs, ours, direct, per_round, sgemm = {}, {}, {}, {}, 0.0
        for rnd in range(args.rounds):
            for patch in patches:
                for batch in batches:
                    key = (patch, batch)
                    out = subprocess.run([sys.executable, os.path.abspath(__file__),
                                          "--bench", args.bench, "--channels", args.channels,
                                          "--nb", str(args.nb), "--patch", patch,
                                          "--threads", str(args.threads),
                                          "--worker-batch", str(batch), "--state", state,
                                          "--repeat", str(args.repeat)],
                                         check=True, capture_output=True, text=True, env=env)
                    t = json.loads(out.stdout.strip().splitlines()[-1])
                    torch_now = t["seconds"]
                    if key in torch_runs:  # the memory of the first round, best times
                        first = torch_runs[key]
                        t["peak_growth_bytes"] = first["peak_growth_bytes"]
                        t["seconds"] = min(t["seconds"], first["seconds"])
                        t["cpu_seconds"] = min(t["cpu_seconds"], first["cpu_seconds"])
                    torch_runs[key] = t
                    out = subprocess.run([args.bench, "--model", weights, "--model-only",
                                          "--no-reference", "--threads", str(args.threads),
                                          "--repeat", str(args.repeat), "--batch", str(batch),
                                          "--patch", patch],
                                         check=True, capture_output=True, text=True, env=env)
                    bench = json.loads(out.stdout)
                    sgemm = max(sgemm, bench["sgemm_gflops"])
                    fast, slow = bench["networks"]  # default kernels first, then direct
                    for table, r in ((ours, fast), (direct, slow)):
                        if key not in table or r["seconds"] < table[key]["seconds"]:
                            table[key] = r
                    per_round.setdefault(key, []).append(round(torch_now / fast["seconds"], 2))
                    print("round %d, %s batch %d: torch %.3f s, cbct %.3f s" %
                          (rnd + 1, patch, batch, torch_now, fast["seconds"]), file=sys.stderr)
    rows = []
    for patch in patches:
        for batch in batches:
            t, o = torch_runs[(patch, batch)], ours.get((patch, batch))
            if o is None:
                continue
            d = direct.get((patch, batch), {})
            rows.append({"patch": parse_patch(patch), "batch": batch,
                         "cbct_kernels": o["kernel"],
                         "torch_seconds": round(t["seconds"], 3),
                         "cbct_seconds": o["seconds"],
                         "speedup": round(t["seconds"] / o["seconds"], 2),
                         "speedup_per_round": per_round[(patch, batch)],
                         "cbct_direct_seconds": d.get("seconds"),
                         "speedup_direct": round(t["seconds"] / d["seconds"], 2) if d else None,
                         "cbct_direct_tracked_peak_bytes": d.get("tracked_peak_bytes"),
                         # CPU seconds of each process (all threads): on a
                         # shared machine they depend much less on the load.
                         "torch_cpu_seconds": round(t["cpu_seconds"], 3),
                         "cbct_cpu_seconds": o["cpu_seconds"],
                         "speedup_cpu_time": round(t["cpu_seconds"] / o["cpu_seconds"], 2),
                         "cbct_gflops": o["gflops"],
                         "cbct_fraction_of_sgemm": o["fraction_of_sgemm"],
                         "torch_peak_growth_bytes": t["peak_growth_bytes"],
                         "cbct_tracked_peak_bytes": o["tracked_peak_bytes"],
                         "memory_ratio": round(o["tracked_peak_bytes"] /
                                               max(t["peak_growth_bytes"], 1), 2)})
    print(json.dumps({"network": {"channels": nc, "nb": args.nb,
                                  "weights": args.model or "random (seed %d)" % args.seed},
                      "threads": args.threads, "torch": torch.__version__,
                      "allocator": args.allocator,
                      "sgemm_gflops": sgemm, "rounds": args.rounds,
                      "load_average_before": [round(x, 2) for x in load_before],
                      "load_average_after": [round(x, 2) for x in os.getloadavg()],
                      "runs": rows}, indent=2))


if __name__ == "__main__":
    main()
