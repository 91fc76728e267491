#!/usr/bin/env python3
"""Side-by-side latency of `onyx bench` and ONNX Runtime (CPU EP) on the bench models.

Run with the venv that has onnxruntime (made with Debian's python3):
  python3 -m venv --system-site-packages .venv && .venv/bin/pip install onnxruntime
  /usr/bin/python3 bench/make_models.py
  .venv/bin/python bench/compare.py [--threads 1 2] [--rounds 3] [--only act_Relu mlp ...]

For every (model, batch, threads) it alternates, for several rounds, one `onyx bench --json`
process and one round of ONNX Runtime timing in a persistent worker process (same thread
count and thread wait policy, see onyx_spins; ORT_ENABLE_ALL, I/O binding with outputs
allocated once), and reports the median of each side's per-round p50. Both sides get the
same .npy inputs; outputs are compared once
(`onyx run --output-dir` against ORT). Models whose ops Onyx lacks are "unsupported" rows.
"""
import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
MODELS = os.path.join(HERE, "models")
ACTIVATIONS = ["Relu", "LeakyRelu", "Sigmoid", "Tanh", "Softplus", "Elu", "Selu", "Celu", "Gelu",
               "GeluTanh", "Mish", "HardSigmoid", "HardSwish", "Swish", "ThresholdedRelu",
               "Softmax", "LogSoftmax", "PRelu"]
ROUND_SECONDS = 0.6  # each side's measured time per round


def cases():
    """(label, model path, batch or None for fixed shapes)."""
    out = [("act_" + op, os.path.join(MODELS, "act_%s.onnx" % op), None) for op in ACTIVATIONS]
    mlp = os.path.join(ROOT, "models", "tutorial_mlp", "model.onnx")
    out += [("mlp", mlp, 1), ("mlp", mlp, 800)]
    for name, batches in (("resnet18", (1, 8)), ("mobilenet_v2", (1, 8)), ("transformer", (1,))):
        out += [(name, os.path.join(MODELS, name + ".onnx"), b) for b in batches]
    return out


# ----------------------------------------------------------------------------- ORT worker
def peak_rss_bytes():
    """VmHWM of this process (getrusage's ru_maxrss would include a pre-exec parent)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def ort_worker():
    """Line protocol on stdin/stdout: {"model", "threads", "inputs": {name: npy}} opens a
    session; {"iters", "warmup"} times a round; {"outputs": dir} writes outputs as .npy."""
    import onnxruntime as ort
    sess = binding = None
    for line in sys.stdin:
        req = json.loads(line)
        try:
            if "model" in req:
                opts = ort.SessionOptions()
                opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
                opts.intra_op_num_threads = req["threads"]
                opts.inter_op_num_threads = 1
                opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
                if not req.get("spin", True):
                    # Same wait policy as Onyx's OpenMP pool: idle workers sleep at once.
                    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
                start = time.perf_counter()
                sess = ort.InferenceSession(req["model"], opts, providers=["CPUExecutionProvider"])
                create_ms = (time.perf_counter() - start) * 1e3
                feeds = {k: np.load(v) for k, v in req["inputs"].items()}
                binding = sess.io_binding()
                for k, v in feeds.items():
                    binding.bind_cpu_input(k, v)
                outs = sess.run(None, feeds)  # learn output shapes, then preallocate
                bound = []
                for meta, o in zip(sess.get_outputs(), outs):
                    buf = ort.OrtValue.ortvalue_from_numpy(np.empty_like(o))
                    binding.bind_ortvalue_output(meta.name, buf)
                    bound.append(buf)
                binding._bound = bound  # keep the buffers alive
                reply = {"ok": True, "create_ms": create_ms}
            elif "iters" in req:
                for _ in range(req["warmup"]):
                    sess.run_with_iobinding(binding)
                times = []
                for _ in range(req["iters"]):
                    start = time.perf_counter()
                    sess.run_with_iobinding(binding)
                    times.append((time.perf_counter() - start) * 1e3)
                rss = peak_rss_bytes()
                reply = {"ok": True, "p50_ms": statistics.median(times), "peak_rss_bytes": rss}
            elif "outputs" in req:
                for i, o in enumerate(binding.copy_outputs_to_cpu()):
                    np.save(os.path.join(req["outputs"], "ort_%d.npy" % i), o)
                reply = {"ok": True}
            else:
                reply = {"ok": False, "error": "bad request"}
        except Exception as e:  # an ORT failure is a row note, not a crash
            reply = {"ok": False, "error": str(e).splitlines()[0][:200] if str(e) else repr(e)}
        print(json.dumps(reply), flush=True)


class OrtWorker:
    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--ort-worker"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def ask(self, **req):
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


# ----------------------------------------------------------------------------- Onyx side
def onyx_env():
    """Onyx's environment: GNU OpenMP waits passively unless the caller chose a policy.

    libgomp's idle workers otherwise spin for GOMP_SPINCOUNT (300000) pause loops, about
    10 ms on recent Xeons, after every parallel region; on a machine with more runnable
    threads than cores (these 2-core machines run other builds) the spinning worker takes
    the core the main thread needs, and the MLP at 2 threads took 90 ms instead of 0.04 ms.
    libgomp reads the policy once, when it is loaded, and has no API to change it later,
    so it is set here, in the process environment (see BENCHMARKS.md)."""
    env = dict(os.environ)
    if "OMP_WAIT_POLICY" not in env and "GOMP_SPINCOUNT" not in env:
        env["OMP_WAIT_POLICY"] = "PASSIVE"
    return env


def onyx_spins():
    """False when Onyx's workers sleep as soon as they are idle (PASSIVE, GOMP_SPINCOUNT=0).

    ORT is given the same policy (session.intra_op.allow_spinning): ORT's pool otherwise
    spins between ops, which hides the wake-up cost a passive pool pays at every parallel
    region (one per conv: about 50 per MobileNetV2 run at 2 threads), and the comparison
    measured the wait policy, not the kernels. Set OMP_WAIT_POLICY=ACTIVE or
    GOMP_SPINCOUNT=N to compare both sides spinning."""
    env = onyx_env()
    if "GOMP_SPINCOUNT" in env:
        return env["GOMP_SPINCOUNT"].strip() not in ("0", "")
    return env.get("OMP_WAIT_POLICY", "").upper() != "PASSIVE"


def onyx(binary, *args, check=False):
    r = subprocess.run([binary, *args], capture_output=True, text=True, env=onyx_env())
    if check and r.returncode != 0:
        raise RuntimeError(r.stderr.strip())
    return r


def first_error_line(stderr):
    for line in stderr.splitlines():
        if line.strip():
            return line.replace("onyx: error: ", "")[:160]
    return "failed"


def model_inputs(model_path, batch, workdir, seed):
    """Random float inputs (uniform [-1, 1)) for the model's feed inputs, saved as .npy."""
    import onnx
    model = onnx.load(model_path, load_external_data=False)
    init = {i.name for i in model.graph.initializer}
    rng = np.random.default_rng(seed)
    files = {}
    for vi in model.graph.input:
        if vi.name in init:
            continue
        dims = [d.dim_value if d.HasField("dim_value") else batch for d in
                vi.type.tensor_type.shape.dim]
        x = rng.uniform(-1, 1, size=dims).astype(np.float32)
        path = os.path.join(workdir, "in_%d.npy" % len(files))
        np.save(path, x)
        files[vi.name] = path
    return files


def outputs_agree(binary, model, inputs, workdir, worker):
    out_dir = os.path.join(workdir, "onyx_out")
    os.makedirs(out_dir, exist_ok=True)
    args = ["run", model, "--output-dir", out_dir]
    for k, v in inputs.items():
        args += ["--input", "%s=%s" % (k, v)]
    r = onyx(binary, *args)
    if r.returncode != 0:
        return "onyx run failed: " + first_error_line(r.stderr)
    if not worker.ask(outputs=workdir)["ok"]:
        return "ORT outputs unavailable"
    written = sorted(f for f in os.listdir(out_dir) if f.endswith(".npy"))
    import onnx
    names = [o.name for o in onnx.load(model, load_external_data=False).graph.output]
    worst = 0.0
    for i, name in enumerate(names):
        safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)
        a = np.load(os.path.join(out_dir, safe + ".npy"))
        b = np.load(os.path.join(workdir, "ort_%d.npy" % i))
        if a.shape != b.shape:
            return "shape %s vs ORT %s" % (a.shape, b.shape)
        if not np.allclose(a, b, rtol=1e-3, atol=1e-4, equal_nan=True):
            err = float(np.nanmax(np.abs(a.astype(np.float64) - b)))
            return "outputs differ (max abs %.3g)" % err
        worst = max(worst, float(np.nanmax(np.abs(a.astype(np.float64) - b))) if a.size else 0.0)
    del written
    return "ok (max abs diff %.1e)" % worst


def run_case(binary, label, model, batch, threads, rounds, seed):
    row = {"model": label, "batch": batch if batch is not None else "-", "threads": threads}
    if not os.path.exists(model):
        row["note"] = "missing model (run bench/make_models.py)"
        return row
    with tempfile.TemporaryDirectory(prefix="onyx_cmp_") as workdir:
        inputs = model_inputs(model, batch or 1, workdir, seed)
        worker = OrtWorker()
        try:
            opened = worker.ask(model=model, threads=threads, inputs=inputs, spin=onyx_spins())
            ort_ok = opened["ok"]
            onyx_args = ["bench", model, "--json", "--threads", str(threads), "--warmup", "3"]
            for k, v in inputs.items():
                onyx_args += ["--input", "%s=%s" % (k, v)]
            probe = onyx(binary, *onyx_args, "--iters", "2")
            if probe.returncode != 0:
                row["note"] = "unsupported: " + first_error_line(probe.stderr)
                if not ort_ok:
                    row["note"] += "; ORT: " + opened["error"]
                return row
            first = json.loads(probe.stdout)
            iters = max(5, min(3000, int(ROUND_SECONDS * 1e3 / max(first["p50_ms"], 1e-3))))
            onyx_p50, ort_p50, onyx_rss, ort_rss = [], [], 0, 0
            last = first
            for _ in range(rounds):
                r = onyx(binary, *onyx_args, "--iters", str(iters), check=True)
                last = json.loads(r.stdout)
                onyx_p50.append(last["p50_ms"])
                onyx_rss = max(onyx_rss, last["peak_rss_bytes"])
                if ort_ok:
                    t = worker.ask(iters=iters, warmup=3)
                    ort_p50.append(t["p50_ms"])
                    ort_rss = t["peak_rss_bytes"]
            row["onyx_p50_ms"] = statistics.median(onyx_p50)
            row["onyx_rss"] = onyx_rss
            row["onyx_gbps"] = last.get("gb_per_s")
            if ort_ok:
                row["ort_p50_ms"] = statistics.median(ort_p50)
                row["ort_rss"] = ort_rss
                row["ratio"] = row["onyx_p50_ms"] / row["ort_p50_ms"]
                if last.get("bytes_per_run"):
                    row["ort_gbps"] = last["bytes_per_run"] / (row["ort_p50_ms"] * 1e6)
                row["check"] = outputs_agree(binary, model, inputs, workdir, worker)
            else:
                row["note"] = "ORT: " + opened["error"]
        finally:
            worker.close()
    return row


def stream(binary_dir, threads):
    exe = os.path.join(binary_dir, "bench", "stream_copy")
    r = subprocess.run([exe, "--threads", str(threads)], capture_output=True, text=True, check=True,
                       env=onyx_env())
    return json.loads(r.stdout.splitlines()[0])


def fmt(v, spec):
    return "-" if v is None else format(v, spec)


def print_table(rows, streams):
    print("\n| model | batch | threads | onyx p50 ms | ORT p50 ms | ratio | onyx GB/s | ORT GB/s "
          "| onyx RSS MiB | ORT RSS MiB | outputs / note |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        mib = lambda b: None if b is None else b / 2**20
        print("| %s | %s | %d | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r["model"], r["batch"], r["threads"], fmt(r.get("onyx_p50_ms"), ".4g"),
            fmt(r.get("ort_p50_ms"), ".4g"), fmt(r.get("ratio"), ".2f"),
            fmt(r.get("onyx_gbps"), ".1f"), fmt(r.get("ort_gbps"), ".1f"),
            fmt(mib(r.get("onyx_rss")), ".0f"), fmt(mib(r.get("ort_rss")), ".0f"),
            r.get("note") or r.get("check", "")))
    for threads, s in sorted(streams.items()):
        acts = [r for r in rows if r["threads"] == threads and r.get("onyx_gbps")]
        geo = math.exp(sum(math.log(r["onyx_gbps"]) for r in acts) / len(acts)) if acts else None
        print("\nthreads %d: STREAM copy %.1f GB/s, in-place %.1f GB/s; activation geomean "
              "%s GB/s (%s of copy)" % (threads, s["copy_gb_per_s"], s["inplace_gb_per_s"],
                                       fmt(geo, ".1f"),
                                       fmt(geo and geo / s["copy_gb_per_s"] * 100, ".0f") + "%"))


def main():
    if "--ort-worker" in sys.argv:
        return ort_worker()
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--build", default=os.path.join(ROOT, "build"), help="CMake build folder")
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--only", nargs="*", help="model labels to run (act_Relu, mlp, resnet18 ...)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json-out", help="also write the rows here")
    args = p.parse_args()
    binary = os.path.join(args.build, "tools", "onyx")
    rows, streams = [], {}
    for threads in args.threads:
        streams[threads] = stream(args.build, threads)
        # Per-call overhead: a one-node model on 16 floats.
        for label, model, batch in [("overhead:tiny_relu", os.path.join(MODELS, "tiny_relu.onnx"),
                                     None)] + cases():
            if args.only and label not in args.only and label != "overhead:tiny_relu":
                continue
            row = run_case(binary, label, model, batch, threads, args.rounds, args.seed)
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
    print_table(rows, streams)
    print("\nwait policy: %s for both (idle pool threads %s)" % (
        ("spinning", "spin before sleeping") if onyx_spins() else
        ("passive", "sleep at once; ORT session.intra_op.allow_spinning=0")))
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"rows": rows, "stream": streams}, f, indent=1)


if __name__ == "__main__":
    main()
