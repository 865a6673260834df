#!/usr/bin/env python3
"""DRUNet inference: cbct's engine and PyTorch side by side, same weights,
same input sizes, same thread count, in one run.

Builds a DRUNet in PyTorch (scripts/drunet_reference.py, the parameter names
cbct loads) with seeded random weights, or loads --model, writes the weights
as safetensors, then for each batch size times:
  - PyTorch (torch.no_grad, float32), each batch in a fresh process, with
    the growth of the resident memory's peak during the forward pass over
    the resident size before it (activations and temporaries; the weights
    are loaded before; the peak is reset through /proc/self/clear_refs);
  - cbct (bench/bench_drunet --model FILE --model-only): seconds, tracked
    peak bytes (activations and kernel scratch; the weights excluded).
Prints JSON with the ratios (speed-up = torch seconds / cbct seconds,
memory = cbct peak / torch peak).

Usage (Debian's python3-torch; scripts/install-python-tools.sh):
  /usr/bin/python3 bench/peers/drunet_vs_torch.py --bench build/bench/bench_drunet \
      [--channels 64,128,256,512] [--nb 4] [--patch 8,128,128] [--batches 1,2,4] \
      [--threads 2]
"""
import argparse
import gc
import json
import os
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


def torch_worker(args):
    """Runs in a fresh process: one forward pass, prints JSON."""
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
    start = time.perf_counter()
    with torch.no_grad():
        net(x, 0.03)
    seconds = time.perf_counter() - start
    peak = status_bytes("VmHWM")
    print(json.dumps({"seconds": seconds, "peak_growth_bytes": peak - before,
                      "rss_peak_bytes": peak}))


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bench", required=True, help="path of cbct's bench_drunet")
    parser.add_argument("--channels", default="64,128,256,512")
    parser.add_argument("--nb", type=int, default=4)
    parser.add_argument("--patch", default="8,128,128", choices=["8,128,128", "8,256,256"],
                        help="the patch sizes bench_drunet times")
    parser.add_argument("--batches", default="1,2,4")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--worker-batch", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--state", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker_batch:
        return torch_worker(args)

    import torch
    import drunet_reference as ref
    nc = [int(c) for c in args.channels.split(",")]
    generator = torch.Generator().manual_seed(args.seed)
    net = ref.build((3, 1, 1, nc, args.nb), generator)
    with tempfile.TemporaryDirectory() as folder:
        weights = os.path.join(folder, "net.safetensors")
        state = os.path.join(folder, "net.pt")
        ref.write_safetensors(weights, {k: v for k, v in net.state_dict().items()})
        torch.save(net.state_dict(), state)
        batches = [int(b) for b in args.batches.split(",")]
        torch_runs = {}
        for batch in batches:
            out = subprocess.run([sys.executable, os.path.abspath(__file__), "--bench", args.bench,
                                  "--channels", args.channels, "--nb", str(args.nb),
                                  "--patch", args.patch, "--threads", str(args.threads),
                                  "--worker-batch", str(batch), "--state", state],
                                 check=True, capture_output=True, text=True)
            torch_runs[batch] = json.loads(out.stdout.strip().splitlines()[-1])
        env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
        large = ["--large"] if args.patch == "8,256,256" else []
        out = subprocess.run([args.bench, "--model", weights, "--model-only", "--no-reference",
                              "--threads", str(args.threads)] + large,
                             check=True, capture_output=True, text=True, env=env)
        ours = {r["batch"]: r for r in json.loads(out.stdout)["networks"]
                if r["patch"] == [int(v) for v in args.patch.split(",")]}
    rows = []
    for batch in batches:
        t, o = torch_runs[batch], ours.get(batch)
        if o is None:
            continue
        rows.append({"batch": batch, "torch_seconds": round(t["seconds"], 3),
                     "cbct_seconds": o["seconds"], "speedup": round(t["seconds"] / o["seconds"], 2),
                     "torch_peak_growth_bytes": t["peak_growth_bytes"],
                     "cbct_tracked_peak_bytes": o["tracked_peak_bytes"],
                     "memory_ratio": round(o["tracked_peak_bytes"] /
                                           max(t["peak_growth_bytes"], 1), 2)})
    print(json.dumps({"network": {"channels": nc, "nb": args.nb}, "patch": args.patch,
                      "threads": args.threads, "torch": torch.__version__, "runs": rows},
                     indent=2))


if __name__ == "__main__":
    main()
