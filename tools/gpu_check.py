"""The GPU check: on a machine with one CUDA device and this checkout (torch, numpy, scipy, tqdm; no package registry
needed), time an SGD epoch of NN1 and NN2 at width 10000 four ways: the eager torch loop and the loop replayed from a
CUDA graph, each with 1, 4 and 8 trials trained in one process (the training loop's trial dimension), and 4 and 8
processes sharing the device one trial each; check that the graph trains the same networks as the eager loop; then run
as many NN2 trials at the paper's scale (width 10000, 6000 epochs, checkpointed) as fit in the time budget, the faster
single-trial loop, and write the figures to --out. `--dry` runs the same on the CPU at toy sizes (it tests this
script; CUDA graphs are skipped there)."""

import argparse, json, os, platform, subprocess, sys, time
from pathlib import Path

root = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(root))

ROWS = 468  # the fitted rows of a trial: 58 batches of 8 and one of 4
D_IN = 15


def make_stack(depth, width, n_nets, device, graphs, seed=0):
    "`n_nets` networks and an epoch's rows (random: the time does not depend on the values)."
    import torch
    from ntk_study.training import NetworkStack

    net = NetworkStack(depth, width, D_IN, list(range(seed, seed + n_nets)), device=device, cuda_graphs=graphs)
    gen = torch.Generator(device=device).manual_seed(seed)
    X = torch.randn(n_nets, ROWS, D_IN, device=device, generator=gen)
    y = torch.randn(n_nets, ROWS, device=device, generator=gen)
    return net, X, y


def timed_epoch(net, X, y, device):
    "Seconds of one SGD epoch (batches of 8; the learning rate 0 keeps the weights: the time is the same)."
    import torch

    t = time.perf_counter()
    net.sgd_epoch(X, y, 0.0, 8)
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - t


def epoch_seconds(depth, width, n_nets, device, epochs, graphs=False):
    "Median seconds per epoch of `n_nets` networks trained together."
    net, X, y = make_stack(depth, width, n_nets, device, graphs)
    for _ in range(2):  # the first epochs warm up the allocator and the kernels (and capture the graph)
        timed_epoch(net, X, y, device)
    times = sorted(timed_epoch(net, X, y, device) for _ in range(epochs))
    return times[len(times) // 2]


def worker(spec):
    "One of the processes sharing the device: warm up, say 'ready', wait for 'go', train for the given seconds."
    depth, width, graphs, seconds, device, seed = spec.split(",")
    net, X, y = make_stack(int(depth), int(width), 1, device, graphs == "1", seed=int(seed))
    for _ in range(2):
        timed_epoch(net, X, y, device)
    print("ready", flush=True)
    sys.stdin.readline()
    t0, n = time.perf_counter(), 0
    while time.perf_counter() - t0 < float(seconds):
        timed_epoch(net, X, y, device)
        n += 1
    print(json.dumps(dict(epochs=n, seconds=time.perf_counter() - t0)), flush=True)


def shared_epochs_per_second(depth, width, k, device, graphs, seconds):
    "Epochs per second of `k` processes training one network each on the same device at the same time (all summed)."
    spec = f"{depth},{width},{int(graphs)},{seconds},{device}"
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    procs = [
        subprocess.Popen([sys.executable, __file__, "--worker", f"{spec},{i}"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True, env=env)  # fmt: skip
        for i in range(k)
    ]
    for p in procs:  # every process warmed up before any starts the clock
        if p.stdout.readline().strip() != "ready":
            raise RuntimeError(f"a worker process exited before it was ready (exit code {p.wait()})")
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    runs = [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in procs]
    return sum(r["epochs"] for r in runs) / max(r["seconds"] for r in runs)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default=str(root / "outputs" / "bench" / "gpu"), help="folder for the figures")
    ap.add_argument("--budget", type=float, default=480.0, help="seconds for the whole check (default 8 minutes)")
    ap.add_argument("--max-trials", type=int, default=None, help="at most this many NN2 trials (default: the budget's)")
    ap.add_argument("--dry", action="store_true", help="the CPU at toy sizes: tests this script")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker:
        return worker(a.worker)
    import torch
    from ntk_study.experiment import TrialSettings, run_trial, write_result, library_versions
    from ntk_study.protocol import PAPER_BATCH_SIZE, PAPER_EPOCHS, PAPER_VAL_SPLIT, keras_split
    from ntk_study.training import LOOP_TOLERANCE, graph_agreement

    t_start = time.perf_counter()
    if not a.dry and not torch.cuda.is_available():
        sys.exit(
            "gpu_check: no CUDA device here (torch.cuda.is_available() is False); --dry tests the script on the CPU"
        )
    device = "cpu" if a.dry else "cuda"
    width, timed, shared_seconds = (64, 3, 1.0) if a.dry else (10000, 5, 5.0)
    epochs_of = {1: 5, 2: 5} if a.dry else PAPER_EPOCHS  # depth -> epochs of a trial (NN1 3000, NN2 6000)
    epochs = epochs_of[2]
    out = Path(a.out)
    (out / "trials").mkdir(parents=True, exist_ok=True)
    name = "CPU (dry run)" if a.dry else torch.cuda.get_device_name(0)
    graph_modes = (False,) if a.dry else (False, True)
    steps_per_epoch = -(-keras_split(TrialSettings().n_train, PAPER_VAL_SPLIT) // PAPER_BATCH_SIZE)  # 468 rows: 59
    assert steps_per_epoch * PAPER_BATCH_SIZE >= ROWS > (steps_per_epoch - 1) * PAPER_BATCH_SIZE
    rows, failures = [], []  # rows: (depth, mode, k networks, epochs per second of all k together)
    for depth in (1, 2):
        for graphs in graph_modes:
            mode = "CUDA graph" if graphs else "eager"
            for k in (1, 4, 8):
                try:
                    rows.append((depth, f"{mode}, {k} in one process", k, k / epoch_seconds(depth, width, k, device,
                                                                                            timed, graphs)))
                except Exception as e:  # a failure is a figure too: the rest of the check still runs
                    failures.append(f"NN{depth} {mode} x{k}: {type(e).__name__}: {e}")
        for k in (2,) if a.dry else (4, 8):
            try:
                rows.append((depth, f"eager, {k} processes", k, shared_epochs_per_second(depth, width, k, device,
                                                                                         False, shared_seconds)))
            except Exception as e:
                failures.append(f"NN{depth} eager {k} processes: {type(e).__name__}: {e}")
    agreement = {}
    for depth in (1, 2):  # the dry run compares eager with eager: the code path, not the graphs
        try:
            agreement[f"NN{depth}"] = graph_agreement(depth, width, device, graphs=(False, not a.dry), rows=ROWS,
                                                      d_in=D_IN)  # fmt: skip
        except Exception as e:
            failures.append(f"NN{depth} graph against eager: {type(e).__name__}: {e}")
    # the single-trial loop for the NN2 trials: the graph where it is faster and trains the same networks
    single = {mode: rate for depth, mode, k, rate in rows if depth == 2 and k == 1}
    nn2 = agreement.get("NN2", {})
    # chapter 03b's float32 tolerance, and training must have moved the outputs far more than that
    agree = nn2.get("max_rel_output_diff", 1.0) <= LOOP_TOLERANCE < nn2.get("training_moved", 0.0) / 100
    use_graphs = agree and single.get("CUDA graph, 1 in one process", 0) > single.get("eager, 1 in one process", 0)
    os.environ["NTK_STUDY_CUDA_GRAPHS"] = "1" if use_graphs else "0"
    per_trial = epochs / single["CUDA graph, 1 in one process" if use_graphs else "eager, 1 in one process"]
    done = []

    def report(final):
        "Write the figures so far (after the benchmark, after each trial and at the end: a kill loses no figure)."
        spent = time.perf_counter() - t_start
        lines = [
            f"# GPU check: {name}",
            "",
            f"torch {torch.__version__}, Python {platform.python_version()}; width {width}, {epochs} NN2 epochs of "
            f"{steps_per_epoch} SGD steps; {spent:.0f} s of a {a.budget:.0f} s budget{'' if final else ' so far'}.",
            "",
            "| network | how | trial-epochs per second | ms per SGD step (wall) | est. h for 50 trials |",
            "|---|---|---|---|---|",
        ]
        for depth, mode, k, rate in rows:
            lines.append(f"| NN{depth} | {mode} | {rate:,.1f} | {1e3 * k / rate / steps_per_epoch:.3f} | "
                         f"{50 * epochs_of[depth] / rate / 3600:.2f} |")  # fmt: skip
        lines += ["", f"{'eager (dry run)' if a.dry else 'CUDA graph'} against eager (3 epochs at the paper's learning "
                  "rate, a plain network and a centred pair):"]  # fmt: skip
        lines += [f"- {net}: max |f difference| / max |f| {v['max_rel_output_diff']:.2e} (training moved f by "
                  f"{v['training_moved']:.2e}), bit for bit equal: {v['bitwise_equal']}"
                  for net, v in agreement.items()]  # fmt: skip
        if failures:
            lines += ["", "Failures:"] + [f"- {f}" for f in failures]
        lines += ["", f"NN2 trials at width {width}, {epochs} epochs, one at a time, "
                  f"{'CUDA graph' if use_graphs else 'eager'} loop: {len(done)}.", ""]  # fmt: skip
        lines += ["| seed | test RMSE | seconds | loop |", "|---|---|---|---|"] + [
            f"| {d['seed']} | {d['rmse']:.4f} | {d['seconds']:.0f} | {d['loop']} |" for d in done
        ]
        (out / "gpu_check.md").write_text("\n".join(lines) + "\n")
        record = dict(device=name, rows=[dict(depth=d, how=m, k=k, trial_epochs_per_second=r) for d, m, k, r in rows],
                      agreement=agreement, failures=failures, cuda_graphs_for_trials=use_graphs, trials=done,
                      versions=library_versions(), dry=a.dry, final=final)  # fmt: skip
        (out / "gpu_check.json").write_text(json.dumps(record, indent=1))
        return lines

    report(False)
    seed = 0
    while a.max_trials is None or len(done) < a.max_trials:
        left = a.budget - (time.perf_counter() - t_start)
        if per_trial * 1.3 > left:  # a trial that would not finish is not started
            break
        t = time.perf_counter()
        try:
            r = run_trial(trial=seed, seed=seed, methods=["NN2"], nn_width=width, nn2_epochs=epochs,
                          out_dir=str(out / "trials"), checkpoint_seconds=60.0, progress=False)  # fmt: skip
        except Exception as e:
            failures.append(f"NN2 trial {seed}: {type(e).__name__}: {e}")
            break
        write_result(r, out / "trials", seed)
        done.append(dict(seed=seed, rmse=r["rmse"]["NN2"], seconds=time.perf_counter() - t,
                         loop=r["networks"]["NN2"]["loop"]))  # fmt: skip
        report(False)
        seed += 1
    print("\n".join(report(True)))

if __name__ == "__main__":
    main()
