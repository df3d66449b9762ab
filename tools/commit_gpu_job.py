"""Add what a GPU job returned (tools/gpu_check.sh: gpu_check.json, gpu_check.md, trial_NNNN.json) to the run
directory: each trial checked (the run's settings and seed, an index not already there, finite RMSEs, the record's
format, a GPU named), copied, logged in run_log.jsonl; then the run's summary regenerated and the job's probe figures
appended, with its date, to outputs/bench/gpu.md. A trial that fails a check is not copied and is named (exit 1).

    python tools/commit_gpu_job.py FOLDER [--run outputs/paper-nn2] [--bench outputs/bench/gpu.md] [--force]

A job whose loop failed the agreement check against the CPU reference has its trials refused unless --force (the
run log then notes it beside each trial): read the report's numbers first."""

import argparse, dataclasses, json, math, sys
from datetime import datetime, timezone
from pathlib import Path

root = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(root))
sys.path.insert(0, str(root / "tools"))

RECORD_KEYS = {"trial", "seed", "status", "settings", "data", "rmse", "timings", "versions", "machine"}
NOT_RECORDED = ("out_dir", "fail_trials", "checkpoint_seconds")  # as experiment._NOT_RECORDED: no effect on a result


def settings_defaults():
    "Every TrialSettings field at its default (the runner, too, reads a setting missing from run.json as default)."
    from ntk_study.experiment import TrialSettings

    return {f.name: f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
            for f in dataclasses.fields(TrialSettings)}  # fmt: skip


def trial_problem(rec, index, info, run_dir, report):
    "Why trial record `rec` (from trial_{index}.json) cannot join the run, or None."
    if not RECORD_KEYS <= set(rec) or rec.get("status") != "ok":
        return f"not a finished trial record (missing {sorted(RECORD_KEYS - set(rec))}, status {rec.get('status')})"
    if rec["trial"] != index or rec["seed"] != info["base_seed"] + index:
        return f"trial {rec['trial']}, seed {rec['seed']}: not trial {index} (seed {info['base_seed'] + index})"
    want = {**settings_defaults(), **info["settings"]}  # a setting added after run.json was written: its default
    want = {k: v for k, v in want.items() if k not in NOT_RECORDED}
    want.update(trial=index, seed=info["base_seed"] + index)
    other = sorted(k for k in set(want) | set(rec["settings"]) if want.get(k) != rec["settings"].get(k))
    if other:
        return f"settings differ from the run's run.json: {', '.join(other)}"
    if (run_dir / f"trial_{index:04d}.json").exists():
        return "already in the run directory"
    bad = [m for m in info["settings"]["methods"] if not (isinstance(rec["rmse"].get(m), float)
                                                          and math.isfinite(rec["rmse"][m]))]  # fmt: skip
    if bad:
        return f"no finite test RMSE for {', '.join(bad)}"
    gpu = rec["machine"].get("gpu") or {}
    if not report["dry"] and not (gpu.get("name") and gpu.get("driver") and rec["versions"].get("torch")):
        return "the record names no GPU, driver or torch version"
    return None


def report_problem(report, info):
    "Why the job's report makes its trials unusable, or None."
    if report.get("format") != "ntk-study gpu job 1":
        return "gpu_check.json is not a GPU job's report"
    if {**settings_defaults(), **(report.get("run_settings") or {})} != {**settings_defaults(), **info["settings"]}:
        return "the job ran other settings than this run's run.json"
    ag = report.get("agreement") or {}
    loop = report.get("trial_loop", "eager")
    if not (ag.get(loop) or {}).get("ok"):
        return f"the {loop} loop did not pass the agreement check against the CPU reference"
    return None


def bench_section(report):
    "The job's probe figures for outputs/bench/gpu.md, headed by its date and device."
    from gpu_check import agreement_lines, probe_lines

    m = report.get("machine") or {}
    lines = [f"## {report['started_at']}: {m.get('device', '?')}{' (dry run, CPU)' if report['dry'] else ''}", "",
             f"Driver {m.get('driver', '-')}, CUDA {m.get('torch_cuda')}, torch {m.get('torch')}. Job "
             f"{report['seconds']:.0f} s of {report['budget_s']:.0f}; trials ({report.get('trial_loop')} loop): "
             + (", ".join(f"trial {t['trial']} in {t['seconds']:.0f} s" for t in report["trials"]) or "none") + ".", ""]
    lines += probe_lines(report["probe"]) if report.get("probe") else ["The probe failed."]
    lines += [""] + (agreement_lines(report["agreement"]) if report.get("agreement") else ["No agreement check."])
    lines += [f"- FAILED {f}" for f in report["failures"]]
    return "\n".join(lines) + "\n\n"


def log_line(run_dir, **entry):
    with open(run_dir / "run_log.jsonl", "a") as f:
        f.write(json.dumps({"at": datetime.now(timezone.utc).isoformat(timespec="seconds"), **entry}) + "\n")


def commit(folder, run_dir, bench, force=False):
    """Add the job in `folder` to `run_dir`; returns the problems (empty when every trial was added). `force`: add
    trials of a job whose loop failed the agreement check (the run log says so beside each)."""
    from ntk_study.experiment import write_json_atomic
    from ntk_study.summary import write_summary

    report = json.loads((folder / "gpu_check.json").read_text())
    info = json.loads((run_dir / "run.json").read_text())
    whole = report_problem(report, info)
    note = None
    if force and whole and "agreement check" in whole:
        whole, note = None, whole  # added anyway, on the reader's decision, and said so
    files = sorted(folder.glob("trial_*.json"))
    problems = [f"{f.name}: {whole}" for f in files] if whole else []
    job = f"gpu job {report['started_at']} on {(report.get('machine') or {}).get('device', '?')}"
    for f in [] if whole else files:
        rec = json.loads(f.read_text())
        why = trial_problem(rec, int(f.stem.split("_")[1]), info, run_dir, report)
        if why:
            problems.append(f"{f.name}: {why}")
            continue
        write_json_atomic(rec, run_dir / f.name)
        log_line(run_dir, trial=rec["trial"], seed=rec["seed"], status="ok", error=None,
                 seconds=round(rec["timings"]["total"], 2), job=job, **({"note": note} if note else {}))  # fmt: skip
    for fail in report["failures"]:
        if fail.startswith("trial "):
            i = int(fail.split()[1].rstrip(":"))
            log_line(run_dir, trial=i, seed=info["base_seed"] + i, status="failed", error=fail, seconds=0.0, job=job)
    print(write_summary(run_dir, figures=any(run_dir.glob("trial_*.json"))))
    text = bench.read_text() if bench.exists() else "# GPU jobs: the probe of each (tools/gpu_check.sh)\n\n"
    if f"## {report['started_at']}:" not in text:  # a job's figures once, however often it is committed
        bench.parent.mkdir(parents=True, exist_ok=True)
        bench.write_text(text + bench_section(report))
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", type=Path, help="what the job returned (its --out)")
    ap.add_argument("--run", type=Path, default=root / "outputs" / "paper-nn2", help="the run directory")
    ap.add_argument("--bench", type=Path, default=root / "outputs" / "bench" / "gpu.md", help="the probe's log")
    ap.add_argument("--force", action="store_true", help="add trials even if the job's loop failed the agreement check")
    a = ap.parse_args()
    for need in (a.folder / "gpu_check.json", a.run / "run.json"):
        if not need.exists():
            ap.exit(2, f"commit_gpu_job: {need} is missing; give the job's folder and its run directory\n")
    problems = commit(a.folder, a.run, a.bench, a.force)
    print("\n".join(f"NOT ADDED {p}" for p in problems) or "every returned trial added")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
