"""The GPU check: on a machine with one CUDA device and this checkout (torch, numpy, scipy, tqdm; no package registry
needed), time the SGD step of NN1 and NN2 at width 10000 with 1, 4 and 8 trials trained in one process (the training
loop's trial dimension), then run as many NN2 trials at the paper's scale (width 10000, 6000 epochs) as fit in the time
budget, checkpointing, and write the figures to --out. `--dry` runs the same on the CPU at toy sizes (to test it)."""

import argparse, json, os, platform, sys, time
from pathlib import Path

root = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(root))


def step_seconds(depth, width, n_nets, device, steps):
    "Median seconds per SGD step of `n_nets` networks trained together (batches of 8 rows, d = 15)."
    import torch
    from ntk_study.training import NetworkStack

    net = NetworkStack(depth, width, 15, list(range(n_nets)), device=device)
    X = torch.randn(n_nets, 8, 15, device=device)
    y = torch.zeros(n_nets, 8, device=device)
    times = []
    for k in range(steps + 3):
        t = time.perf_counter()
        net.sgd_step(X, y, 0.0)
        if device == "cuda":
            torch.cuda.synchronize()
        if k >= 3:  # the first steps warm up the allocator and the kernels
            times.append(time.perf_counter() - t)
    return sorted(times)[len(times) // 2]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default=str(root / "outputs" / "bench" / "gpu"), help="folder for the figures")
    ap.add_argument("--budget", type=float, default=480.0, help="seconds for the whole check (default 8 minutes)")
    ap.add_argument("--dry", action="store_true", help="the CPU at toy sizes: tests this script")
    a = ap.parse_args()
    import torch
    from ntk_study.experiment import TrialSettings, run_trial, write_result, library_versions
    from ntk_study.protocol import PAPER_BATCH_SIZE, PAPER_VAL_SPLIT, keras_split

    t_start = time.perf_counter()
    if not a.dry and not torch.cuda.is_available():
        sys.exit(
            "gpu_check: no CUDA device here (torch.cuda.is_available() is False); --dry tests the script on the CPU"
        )
    device = "cpu" if a.dry else "cuda"
    width, epochs, steps = (64, 5, 5) if a.dry else (10000, 6000, 50)
    out = Path(a.out)
    (out / "trials").mkdir(parents=True, exist_ok=True)
    name = "CPU (dry run)" if a.dry else torch.cuda.get_device_name(0)
    bench = {f"NN{d} x{k}": step_seconds(d, width, k, device, steps) for d in (1, 2) for k in (1, 4, 8)}
    steps_per_epoch = -(-keras_split(TrialSettings().n_train, PAPER_VAL_SPLIT) // PAPER_BATCH_SIZE)  # 468 rows: 59
    per_trial = {key: s * epochs * steps_per_epoch for key, s in bench.items()}
    done = []
    seed = 0
    while True:
        left = a.budget - (time.perf_counter() - t_start)
        if per_trial["NN2 x1"] * 1.3 > left:  # a trial that would not finish is not started
            break
        t = time.perf_counter()
        r = run_trial(trial=seed, seed=seed, methods=["NN2"], nn_width=width, nn2_epochs=epochs,
                      out_dir=str(out / "trials"), checkpoint_seconds=60.0, progress=False)  # fmt: skip
        write_result(r, out / "trials", seed)
        done.append(dict(seed=seed, rmse=r["rmse"]["NN2"], seconds=time.perf_counter() - t))
        seed += 1
    spent = time.perf_counter() - t_start
    lines = [
        f"# GPU check: {name}",
        "",
        f"torch {torch.__version__}, Python {platform.python_version()}; width {width}, {epochs} NN2 epochs; "
        f"{spent:.0f} s of a {a.budget:.0f} s budget.",
        "",
        "| networks trained together | ms per SGD step | trial-steps per second | est. s per trial |",
        "|---|---|---|---|",
    ]
    for key, s in bench.items():
        k = int(key.split("x")[1])
        lines.append(f"| {key} | {1e3 * s:.3f} | {k / s:,.0f} | {per_trial[key] / k:,.0f} |")
    lines += ["", f"NN2 trials at width {width}, {epochs} epochs, one at a time: {len(done)}.", ""]
    lines += ["| seed | test RMSE | seconds |", "|---|---|---|"] + [
        f"| {d['seed']} | {d['rmse']:.4f} | {d['seconds']:.0f} |" for d in done
    ]
    (out / "gpu_check.md").write_text("\n".join(lines) + "\n")
    (out / "gpu_check.json").write_text(json.dumps(dict(device=name, bench=bench, trials=done,
                                                        versions=library_versions(), dry=a.dry), indent=1))  # fmt: skip
    print("\n".join(lines))


if __name__ == "__main__":
    main()
