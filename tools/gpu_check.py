"""The GPU job: one call of at most 600 s on a lent machine with one CUDA device and this checkout (torch, numpy, scipy,
matplotlib, tqdm; no papermill, Jupyter, scikit-learn or Dask needed). In an internal budget of 560 s it (1) probes
NN2 at width 10000: the copy bandwidth, each big operation of an SGD step at the paper's learning rate timed with
CUDA events against it, whole training-loop epochs eager and replayed from a CUDA graph, the graph against eager
(`graph_agreement`), TF32 off; (2) checks 3 epochs of trial 0 against the committed CPU reference
(outputs/paper-nn2/cpu_reference.json); (3) trains the next missing trials of the run directory (outputs/paper-nn2),
one at a time with the faster loop that agrees, no checkpoints, a trial started only when its measured time x 1.05
fits in what is left, each result written at once into --out in the standard trial format. --out receives at most 8
files: gpu_check.json, gpu_check.md and up to 6 trial_NNNN.json. tools/commit_gpu_job.py adds them to the run.
Every part runs in one worker process (started with a timeout, killed at the budget's end); a part that fails is
recorded and the others go on. `--dry` runs the same on the CPU, at the run directory's (small) width."""

import argparse, json, math, os, platform, queue, signal, subprocess, sys, tempfile, threading, time
from datetime import datetime, timezone
from pathlib import Path

root = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(root))

BUDGET = 560.0  # seconds for the whole command, from the wrapper's start: one device call is at most 600 s
MAX_TRIALS = 6  # at most 8 files come back: the report (.json and .md) and 6 trials
START_RULE = 1.05  # a trial starts only when its measured seconds x this fit in what is left
READY_TIMEOUT = 120.0  # the worker's start-up: Python, torch, CUDA and the package
RESERVE = 4.0  # seconds kept at the end for the report
RUN_DIR = root / "outputs" / "paper-nn2"
REFERENCE = RUN_DIR / "cpu_reference.json"
REF_EPOCHS = 3  # epochs of trial 0 in the reference
STEP_BYTES = 16  # bytes per hidden weight per SGD step: read forward, read backward, read and written in the update
PROBE_EPOCHS = 8  # timed training-loop epochs of each loop


# ---------------------------------------------------------------- the worker's side (imports torch)
def gpu_info():
    "The device, driver and library versions (a failed lookup is recorded as such, never raised)."
    import torch

    info = dict(torch=torch.__version__, torch_cuda=torch.version.cuda, python=platform.python_version())
    if not torch.cuda.is_available():
        return dict(info, device="cpu")
    try:
        p = torch.cuda.get_device_properties(0)
        info.update(device=p.name, capability=f"{p.major}.{p.minor}", memory_gib=round(p.total_memory / 2**30, 1),
                    cudnn=torch.backends.cudnn.version())  # fmt: skip
    except Exception as e:
        info["device"] = f"a CUDA device ({type(e).__name__}: {e})"
    try:
        q = ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"]
        info["driver"] = subprocess.run(q, capture_output=True, text=True, timeout=20).stdout.strip() or "unknown"
    except Exception as e:
        info["driver"] = f"unknown ({type(e).__name__})"
    return info


def tf32_off():
    "Turn TF32 off for float32 products (the study's float32 is IEEE float32) and record before and after."
    import torch

    def now():
        return dict(matmul=torch.backends.cuda.matmul.allow_tf32, cudnn=torch.backends.cudnn.allow_tf32,
                    precision=torch.get_float32_matmul_precision())  # fmt: skip

    before = now()
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    torch.set_float32_matmul_precision("highest")
    after = now()
    return dict(before=before, after=after, off=not after["matmul"] and after["precision"] == "highest")


def timed(fn, reps, device):
    "Seconds per call of `fn` over `reps` calls after one warm-up call: CUDA events on a GPU, the wall clock else."
    import torch

    fn()
    if device == "cuda":
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        torch.cuda.synchronize()
        start.record()
        for _ in range(reps):
            fn()
        end.record()
        end.synchronize()
        return start.elapsed_time(end) / 1e3 / reps
    t = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - t) / reps


def step_operations(net, device, reps):
    """The copy bandwidth (bytes read + written per second) and each big operation of an SGD step of `net` (NN2) at
    the paper's learning rate (the hidden layer's forward, backward and update products, the whole eager step)."""
    import torch
    from ntk_study.protocol import PAPER_LR

    width = net.width
    gen = torch.Generator(device=device).manual_seed(0)
    Xb, yb = torch.randn(1, 8, 15, device=device, generator=gen) / 15**0.5, torch.zeros(1, 8, device=device)
    _, zs, hs = net.forward(Xb, keep=True)
    E, b, h, g = net.E[1], net.b[1], hs[1], torch.randn(1, 8, width, device=device, generator=gen) * 1e-3
    alpha = -PAPER_LR * net.plan[1].weight_scale ** 2  # the update at the paper's rate: a BLAS may skip alpha = 0
    big = torch.empty(2**28 if device == "cuda" else 2**22, device=device)  # 1 GiB on a GPU
    dst, n2 = torch.empty_like(big), E.numel() * E.element_size()
    ops = {"copy": (lambda: dst.copy_(big), 2 * big.numel() * 4),
           "forward Z = H E": (lambda: torch.baddbmm(b.unsqueeze(1), h, E), n2),
           "backward P = G E^T": (lambda: torch.bmm(E, g.transpose(1, 2)), n2),
           "update E -= c H^T G": (lambda: E.baddbmm_(h.transpose(1, 2), g, alpha=alpha), 2 * n2),
           "whole eager step": (lambda: net.sgd_step(Xb, yb, PAPER_LR), STEP_BYTES * width * width)}  # fmt: skip
    out = {}
    for name, (fn, nbytes) in ops.items():
        s = timed(fn, reps, device)
        out[name] = dict(seconds=s, bytes=nbytes, GBps=nbytes / s / 1e9)
    copy = out["copy"]["GBps"]
    for v in out.values():
        v["share_of_copy"] = v["GBps"] / copy
    return out


def loop_epochs(net, device, graphs, epochs=PROBE_EPOCHS):
    """Seconds per epoch of the training loop a trial runs (`_run_epochs`: the epoch's gather, 59 SGD steps, the loss
    read back, the held-out RMSE), eager or replayed from a CUDA graph, on random rows of a trial's shapes."""
    import numpy as np
    import torch
    from ntk_study.protocol import SGDSettings
    from ntk_study.training import _History, _run_epochs, epoch_orders

    net.cuda_graphs = graphs  # the same weights either way: one network drawn for the probe
    gen = torch.Generator(device=device).manual_seed(1)
    X, y = torch.randn(1, 668, 15, device=device, generator=gen) / 15**0.5, torch.randn(1, 668, device=device) * 0.2
    orders = epoch_orders(468, epochs + 1, 0)[None].to(device)
    fit, sgd = (X[:, :468], y[:, :468], orders), SGDSettings(net.depth, net.width, epochs + 1)  # the paper's lr, batch
    history = _History(np.zeros((1, epochs + 1)), monitors=[(X[:, 468:], y[:, 468:], "val_rmse")])
    _run_epochs(net, fit, sgd, range(1), history)  # warms up (and captures the graph)
    t = time.perf_counter()
    diverged = _run_epochs(net, fit, sgd, range(1, epochs + 1), history)
    seconds = (time.perf_counter() - t) / epochs
    return dict(seconds_per_epoch=seconds, seconds_per_step=seconds / 59, loop=net.loop(8), finite=not diverged.any())


def probe(width, device):
    "The probe: TF32 off, the step's operations, the training loop's epochs eager and graph, the graph against eager."
    from ntk_study.training import LOOP_TOLERANCE, NetworkStack, graph_agreement

    res = dict(width=width, tf32="not applicable (CPU)", failures=[])
    if device == "cuda":
        try:
            res["tf32"] = tf32_off()
        except Exception as e:  # recorded; the trials' records say what the matmul setting was
            res["tf32"] = f"could not be set: {type(e).__name__}: {e}"
            res["failures"].append(f"TF32: {e}")
    net = NetworkStack(2, width, 15, [0], device=device, cuda_graphs=False)
    res["operations"] = step_operations(net, device, 20 if device == "cuda" else 3)
    res["epochs"] = {"eager": loop_epochs(net, device, False)}
    if device == "cuda":
        try:
            res["epochs"]["graph"] = loop_epochs(net, device, True)
        except Exception as e:  # the graph is an option: eager still runs the trials
            res["failures"].append(f"graph epochs: {type(e).__name__}: {e}")
    del net  # its weights and its graph's memory
    graphs = (False, device == "cuda")  # the dry run compares eager with eager: the code path, not the graph
    try:
        ga = graph_agreement(2, width, device, graphs=graphs)
        ga["ok"] = ga["max_rel_output_diff"] <= LOOP_TOLERANCE < ga["training_moved"] / 100
    except Exception as e:
        ga = dict(ok=False, error=f"{type(e).__name__}: {e}")
        res["failures"].append(f"graph against eager: {ga['error']}")
    res["graph_agreement"] = ga
    res["floor_step_seconds"] = STEP_BYTES * width**2 / (res["operations"]["copy"]["GBps"] * 1e9)
    return res


def reference_data(settings):
    "Trial 0's data of the run (`simulate` with the run's settings and seed)."
    from ntk_study.data import simulate

    return simulate(settings["seed"], settings["n_obs"], settings["d_in"], settings["test_fraction"],
                    settings["data_convention"])  # fmt: skip


def three_epochs(settings, device, dtype="float32", compiled=None, graphs=False, epochs=REF_EPOCHS):
    """Trial 0's network of the run trained `epochs` epochs by `train` (the trials' code path): the test outputs at
    initialisation and after, the per-epoch losses, the loop, the seconds."""
    import torch
    from ntk_study.protocol import SGDSettings, order_seed
    from ntk_study.training import NetworkStack, TrainRows, TrainRun, train

    d, dt = reference_data(settings), getattr(torch, dtype)
    os.environ["NTK_STUDY_CUDA_GRAPHS"] = "1" if graphs else "0"
    net = NetworkStack(2, settings["nn_width"], settings["d_in"], [settings["seed"]], dtype=dt, device=device)
    f0 = net.forward(torch.as_tensor(d.X_test, dtype=dt, device=device)[None])[0].double().cpu().numpy()
    del net
    t = time.perf_counter()
    sgd = SGDSettings(2, settings["nn_width"], epochs, settings["lr"], settings["batch_size"], settings["val_split"],
                      dtype)  # fmt: skip
    run = TrainRun(init_seed=settings["seed"], order_seed=order_seed(settings["seed"]), device=device, ntk_rows=0,
                   progress=False, compiled=compiled)  # fmt: skip
    r = train(TrainRows(d.X_train, d.y_train, d.X_test), sgd, run)
    return dict(f0=f0.tolist(), f=r.test_pred.tolist(), train_loss=r.train_loss.tolist(), loop=r.settings["loop"],
                dtype=dtype, seconds=r.seconds, wall_seconds=time.perf_counter() - t)  # fmt: skip


def compare(run, ref):
    "max |f - f_ref| / max |f_ref| after training and at initialisation, and how far training moved f_ref (same scale)."
    import numpy as np

    f, f_ref, f0, f0_ref = (np.array(v) for v in (run["f"], ref["f"], run["f0"], ref["f0"]))
    scale = np.abs(f_ref).max()
    return dict(max_rel_diff=float(np.abs(f - f_ref).max() / scale), init_rel_diff=float(np.abs(f0 - f0_ref).max() /
                scale), training_moved=float(np.abs(f_ref - f0_ref).max() / scale))  # fmt: skip


def agreement(ref_path, device, loops):
    """3 epochs of trial 0 here, by each loop of `loops` ('eager', 'graph'), against the reference's float64 run: within
    LOOP_TOLERANCE of max |f|, with training having moved f by more than 100 times that."""
    from ntk_study.training import LOOP_TOLERANCE

    ref = json.loads(Path(ref_path).read_text())
    out = dict(reference=str(ref_path), reference_cpu=ref["machine"]["cpu"], tolerance=LOOP_TOLERANCE)
    for loop in loops:
        run = three_epochs(ref["settings"], device, graphs=loop == "graph")
        c = compare(run, ref["runs"]["float64"])
        cpu32 = {k: v for k, v in ref["runs"].items() if k != "float64"}
        c["against_cpu_float32"] = {k: compare(run, v)["max_rel_diff"] for k, v in cpu32.items()}
        c.update(loop=run["loop"], seconds=run["seconds"], wall_seconds=run["wall_seconds"])
        c["ok"] = c["max_rel_diff"] <= LOOP_TOLERANCE < c["training_moved"] / 100
        out[loop] = c
    return out


def make_reference(settings, path):
    "The CPU reference: trial 0's 3 epochs in float64 (the check's truth) and by both float32 CPU loops, with the CPU."
    import torch
    from ntk_study.experiment import cpu_model, library_versions

    runs = {"float64": three_epochs(settings, "cpu", "float64", compiled=False)}
    runs["float32, torch loop"] = three_epochs(settings, "cpu", "float32", compiled=False)
    runs["float32, default loop"] = three_epochs(settings, "cpu", "float32")
    keep = ("seed", "n_obs", "d_in", "test_fraction", "data_convention", "nn_width", "lr", "batch_size", "val_split")
    rec = dict(what=f"trial 0 of the run, NN2, {REF_EPOCHS} epochs, test-row outputs f0 (init) and f (after)",
               settings={k: settings[k] for k in keep}, epochs=REF_EPOCHS, runs=runs,
               machine=dict(cpu=cpu_model(), threads=torch.get_num_threads(), **library_versions()),
               made_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))  # fmt: skip
    rec["checks"] = {k: compare(v, runs["float64"]) for k, v in runs.items()}
    Path(path).write_text(json.dumps(rec, indent=1) + "\n")
    return rec


def run_one_trial(run_info, index, out, graphs):
    "Trial `index` of the run, no checkpoints, its result written at once into `out`; a short summary of it."
    from ntk_study.experiment import run_trial, write_result

    os.environ["NTK_STUDY_CUDA_GRAPHS"] = "1" if graphs else "0"
    s = dict(run_info["settings"], trial=index, seed=run_info["base_seed"] + index, out_dir=str(out),
             checkpoint_seconds=0.0)  # fmt: skip
    t = time.perf_counter()
    r = run_trial(progress=False, **s)
    path = write_result(r, out, index)
    return dict(trial=index, seed=r["seed"], file=path.name, rmse=r["rmse"], seconds=time.perf_counter() - t,
                loop={m: v["loop"] for m, v in r.get("networks", {}).items()})  # fmt: skip


def worker(device, out):
    "Answer the supervisor's commands (JSON lines on stdin) with '@@' JSON lines on stdout, one per command."
    import torch  # noqa: F401  (torch and CUDA start-up are part of the worker's start, under its timeout)

    say = lambda obj: print("@@" + json.dumps(obj), flush=True)  # noqa: E731
    info = gpu_info()
    if device == "cuda" and torch.cuda.is_available():  # else the supervisor stops: no CUDA device
        torch.cuda.init()
        try:  # off for every part this worker runs (the probe checks and records it again)
            info["tf32"] = tf32_off()
        except Exception as e:
            info["tf32"] = f"could not be set: {type(e).__name__}: {e}"
    say(dict(ready=info))
    for line in sys.stdin:
        cmd = json.loads(line)
        try:
            if cmd["do"] == "probe":
                answer = probe(cmd["width"], device)
            elif cmd["do"] == "agreement":
                answer = agreement(cmd["reference"], device, cmd["loops"])
            else:
                answer = run_one_trial(cmd["run"], cmd["index"], out, cmd["graphs"])
            say(dict(ok=answer))
        except Exception as e:
            say(dict(error=f"{type(e).__name__}: {e}"))


# ---------------------------------------------------------------- the supervisor's side (no torch)
class Worker:
    "The worker process: started with a timeout on its 'ready', asked one command at a time with a deadline."

    def __init__(self, args, env, log):
        self.log = log
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True,
                                     env=env, start_new_session=True)  # fmt: skip
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            if line.startswith("@@"):
                self.lines.put(json.loads(line[2:]))
        self.lines.put(None)  # the worker exited

    def answer(self, timeout):
        "The next answer; RuntimeError when the worker exits or the timeout passes (the worker is then killed)."
        try:
            msg = self.lines.get(timeout=max(timeout, 0.1))
        except queue.Empty:
            self.kill()
            raise RuntimeError(f"no answer within {timeout:.0f} s: the worker was killed") from None
        if msg is None:
            raise RuntimeError(f"the worker exited (status {self.proc.wait()}); its stderr is in the report")
        return msg

    def ask(self, cmd, timeout):
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        msg = self.answer(timeout)
        if "error" in msg:
            raise RuntimeError(msg["error"])
        return msg["ok"]

    def kill(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)  # its own session: the worker and nothing else
            self.proc.wait()


class Job:
    "The job's state and its report, rewritten after every part (a kill at the limit loses nothing finished)."

    def __init__(self, a):
        self.a, self.t0 = a, started(a.started)
        self.out = Path(a.out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.rec = dict(format="ntk-study gpu job 1", started_at=datetime.fromtimestamp(self.t0, timezone.utc)
                        .isoformat(timespec="seconds"), budget_s=a.budget, dry=a.dry, run_dir=str(a.run),
                        machine=None, probe=None, agreement=None, trials=[], failures=[], skipped=[],
                        estimates=[], log_tail="")  # fmt: skip
        self.worker = None
        self.log = tempfile.NamedTemporaryFile("w+", prefix="gpu_worker_", suffix=".log", delete=False)

    def left(self):
        return self.a.budget - (time.time() - self.t0) - RESERVE

    def fail(self, part, e):
        self.rec["failures"].append(f"{part}: {e}")
        self.write()

    def start_worker(self):
        "A worker process, or None (recorded) when it does not start within its timeout."
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        if self.a.dry:
            env["NTK_STUDY_COMPILED"] = "0"  # the torch loop, as on a GPU
        args = [sys.executable, __file__, "--worker", "--out", str(self.out)] + (["--dry"] if self.a.dry else [])
        w = None
        try:
            w = Worker(args, env, self.log)
            self.rec["machine"] = w.answer(min(READY_TIMEOUT, self.left()))["ready"]
            self.worker = w
        except Exception as e:
            if w is not None:
                w.kill()
            self.fail("worker start-up", e)
        return self.worker

    def ask(self, part, cmd):
        "The answer of a part, or None (recorded): a failure, or no answer before the budget's end."
        if self.worker is None and self.start_worker() is None:
            return None
        try:
            answer = self.worker.ask(cmd, self.left())
        except Exception as e:
            answer = None
            self.fail(part, e)
        if answer is None or answer.get("failures"):  # a failed part may leave CUDA unusable: a fresh worker next
            self.worker.kill()
            self.worker = None
        return answer

    def write(self):
        self.log.flush()
        self.rec["log_tail"] = Path(self.log.name).read_text()[-3000:]
        self.rec["seconds"] = time.time() - self.t0
        write_text_atomic(self.out / "gpu_check.json", json.dumps(self.rec, indent=1) + "\n")
        try:
            text = report_markdown(self.rec)
        except Exception as e:
            text = f"# GPU job: the report could not be rendered ({type(e).__name__}: {e}); see gpu_check.json\n"
        write_text_atomic(self.out / "gpu_check.md", text)


def started(text):
    "The wrapper's start time, or now when it gave none that parses (a `date` without %N)."
    try:
        t = float(text)
        return t if 0 < time.time() - t < 300 else time.time()
    except (TypeError, ValueError):
        return time.time()


def write_text_atomic(path, text):
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def missing_trials(run_dir, out, n_trials):
    "The run's trial indices with no result file, in the run directory or already in `out`, in order."
    return [i for i in range(n_trials) if not any((d / f"trial_{i:04d}.json").exists() for d in (run_dir, out))]


def trial_estimate(job, loop):
    """Seconds for the next trial: the slowest trial this job measured, else the probe's training-loop epoch x the
    run's epochs plus the set-up the agreement check measured (None when neither is known)."""
    done = [t["seconds"] for t in job.rec["trials"]]
    if done:
        return max(done), "measured trials"
    p, ag, epochs = job.rec["probe"], job.rec["agreement"] or {}, job.run_info["settings"]["nn2_epochs"]
    if not p or loop not in p["epochs"]:
        return None, "no probe"
    per_epoch = p["epochs"][loop]["seconds_per_epoch"]
    a = ag.get(loop) or {}
    setup = max(a.get("wall_seconds", 0.0) - REF_EPOCHS * per_epoch, 0.0) if a else 10.0
    return epochs * per_epoch + setup, "probe"


def choose_loop(job):
    "The CUDA graph where it agrees with eager and with the reference and is faster; eager otherwise."
    p, ag = job.rec["probe"], job.rec["agreement"] or {}
    if not p or "graph" not in p["epochs"] or not p["graph_agreement"]["ok"] or not ag.get("graph", {}).get("ok"):
        return "eager"
    faster = p["epochs"]["graph"]["seconds_per_epoch"] < p["epochs"]["eager"]["seconds_per_epoch"]
    return "graph" if faster else "eager"


def run_trials(job):
    "The next missing trials, one at a time, each started only when its estimate x START_RULE fits in what is left."
    loop = choose_loop(job)
    job.rec["trial_loop"] = loop
    todo = missing_trials(job.a.run, job.out, job.run_info["n_trials"])
    while todo and len(job.rec["trials"]) < job.a.max_trials:
        est, basis = trial_estimate(job, loop)
        left = job.left()
        job.rec["estimates"].append(dict(trial=todo[0], estimate_s=est, basis=basis, left_s=left))
        if est is None:
            job.rec["skipped"].append(f"trial {todo[0]} not started: no estimate of its time ({basis})")
            break
        if est * START_RULE > left:
            job.rec["skipped"].append(f"trial {todo[0]} not started: {est:.0f} s ({basis}) x {START_RULE} > "
                                      f"{left:.0f} s left")  # fmt: skip
            break
        i = todo.pop(0)
        t = job.ask(f"trial {i}", dict(do="trial", run=job.run_info, index=i, graphs=loop == "graph"))
        if t is not None:
            job.rec["trials"].append(t)
        job.write()


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", help="the folder whose files come back (at most 8 are written)")
    ap.add_argument("--budget", type=float, default=BUDGET, help=f"seconds for the whole job (default {BUDGET:.0f})")
    ap.add_argument("--started", help="the wrapper's start (Unix seconds): the budget counts from there")
    ap.add_argument("--run", type=Path, default=RUN_DIR, help="the run directory whose missing trials run")
    ap.add_argument("--reference", type=Path, default=REFERENCE, help="the CPU reference of trial 0's 3 epochs")
    ap.add_argument("--max-trials", type=int, default=MAX_TRIALS, help=f"at most this many trials (<= {MAX_TRIALS})")
    ap.add_argument("--dry", action="store_true", help="on the CPU, at the run directory's width: tests this script")
    ap.add_argument("--make-reference", action="store_true", help="compute --reference here on the CPU and stop")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    device = "cpu" if a.dry else "cuda"
    if a.worker:
        return worker(device, Path(a.out))
    if a.make_reference:
        checks = make_reference(json.loads((a.run / "run.json").read_text())["settings"], a.reference)["checks"]
        return print(json.dumps(checks, indent=1))
    if not a.out:
        ap.error("--out is required: the folder whose files come back")
    a.max_trials = min(a.max_trials, MAX_TRIALS)
    job = Job(a)
    try:
        job.run_info = json.loads((a.run / "run.json").read_text())
    except (OSError, ValueError) as e:
        job.fail("run directory", f"{a.run / 'run.json'} unreadable ({type(e).__name__}); give --run")
        return 1
    try:
        run_job(job)
    except Exception as e:  # the supervisor's own error: recorded; the trials already written stay
        job.fail("supervisor", f"{type(e).__name__}: {e}")
    finally:
        if job.worker is not None:
            job.worker.kill()
        job.write()
    print((job.out / "gpu_check.md").read_text())
    return 1 if job.rec["failures"] else 0  # a part failed (the report says which); the files stand either way


def run_job(job):
    "The probe, the agreement check, the trials: each part's answer (or failure) in the report at once."
    job.rec["run_settings"] = job.run_info["settings"]
    if job.start_worker() is None:
        return
    if not job.a.dry and job.rec["machine"].get("device") == "cpu":
        return job.fail("device", "no CUDA device here (torch.cuda.is_available() is False); --dry tests on the CPU")
    job.rec["probe"] = job.ask("probe", dict(do="probe", width=job.run_info["settings"]["nn_width"]))
    job.write()
    loops = ["eager"] + (["graph"] if job.rec["probe"] and "graph" in job.rec["probe"]["epochs"] else [])
    job.rec["agreement"] = job.ask("agreement", dict(do="agreement", reference=str(job.a.reference), loops=loops))
    job.write()
    run_trials(job)


# ---------------------------------------------------------------- the report
def _ms(s):
    return f"{1e3 * s:.3f}"


def probe_lines(p):
    "The probe's table: each operation's time and bandwidth against the copy's, the step against the streaming bound."
    ops = p["operations"]
    lines = [f"Copy bandwidth (bytes read + written): {ops['copy']['GBps']:,.0f} GB/s. NN2 at width {p['width']}: an "
             f"SGD step moves {STEP_BYTES * p['width'] ** 2 / 1e9:.2f} GB of the hidden weight, a floor of "
             f"{_ms(p['floor_step_seconds'])} ms at the copy's bandwidth. TF32: {p['tf32']}.", "",
             "| operation | ms | GB moved | GB/s | of copy |", "|---|---|---|---|---|"]  # fmt: skip
    lines += [f"| {k} | {_ms(v['seconds'])} | {v['bytes'] / 1e9:.3f} | {v['GBps']:,.0f} | {v['share_of_copy']:.0%} |"
              for k, v in ops.items()]  # fmt: skip
    lines += ["", "| training loop | s per epoch | ms per step | x floor |", "|---|---|---|---|"]
    lines += [f"| {k} ({v['loop']}) | {v['seconds_per_epoch']:.4f} | {_ms(v['seconds_per_step'])} | "
              f"{v['seconds_per_step'] / p['floor_step_seconds']:.2f} |" for k, v in p["epochs"].items()]  # fmt: skip
    ga = p["graph_agreement"]
    if "error" in ga:
        return lines + ["", f"Graph against eager: FAILED ({ga['error']})"] + [f"- probe failure: {f}" for f in
                                                                               p["failures"]]  # fmt: skip
    lines += ["", f"Graph against eager ({' against '.join(ga['loops'])}, 3 epochs, NN2): max |f difference| / max |f| "
              f"{ga['max_rel_output_diff']:.2e}, training moved f by {ga['training_moved']:.2e}, bit for bit: "
              f"{ga['bitwise_equal']}; {'agrees' if ga['ok'] else 'DOES NOT AGREE'}."]  # fmt: skip
    return lines + [f"- probe failure: {f}" for f in p["failures"]]


def agreement_lines(ag):
    lines = [f"Against the CPU reference ({ag['reference_cpu']}), 3 epochs of trial 0, float64 truth, tolerance "
             f"{ag['tolerance']:g} of max |f|:"]  # fmt: skip
    for loop in ("eager", "graph"):
        if loop in ag:
            c = ag[loop]
            cpu32 = ", ".join(f"{k} {v:.2e}" for k, v in c["against_cpu_float32"].items())
            lines.append(f"- {loop} ({c['loop']}): {c['max_rel_diff']:.2e} (at initialisation "
                         f"{c['init_rel_diff']:.1e}; "
                         f"training moved f by {c['training_moved']:.2f}); against the CPU's float32: {cpu32}; "
                         f"{'agrees' if c['ok'] else 'DOES NOT AGREE'}")  # fmt: skip
    return lines


def report_markdown(rec):
    "The job's report in words and tables."
    m = rec.get("machine") or {}
    lines = [f"# GPU job of {rec['started_at']}{' (dry run, CPU)' if rec['dry'] else ''}", "",
             f"Device: {m.get('device', '?')}; driver {m.get('driver', '-')}, CUDA {m.get('torch_cuda')}, torch "
             f"{m.get('torch')}; {rec.get('seconds', 0):.0f} s of a {rec['budget_s']:.0f} s budget.", ""]  # fmt: skip
    if rec["probe"]:
        lines += probe_lines(rec["probe"]) + [""]
    if rec["agreement"]:
        lines += agreement_lines(rec["agreement"]) + [""]
    lines += [f"Trials of {rec['run_dir']} ({rec.get('trial_loop', '-')} loop): {len(rec['trials'])} done.", "",
              "| trial | seed | NN2 test RMSE | seconds |", "|---|---|---|---|"]  # fmt: skip
    lines += [f"| {t['trial']} | {t['seed']} | {t['rmse'].get('NN2')} | {t['seconds']:.1f} |" for t in rec["trials"]]
    lines += [""] + [f"- {s}" for s in rec["skipped"]] + [f"- FAILED {f}" for f in rec["failures"]]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
