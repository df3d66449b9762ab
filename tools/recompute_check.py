"""Rerun a handful of committed trials in this process, one thread, and compare every recorded number with the
committed file (and, with --baseline, with an earlier run of this script), bit for bit.

    PYTHONPATH=$PWD .venv/bin/python tools/recompute_check.py [--save DIR] [--baseline DIR] [--only NAME,...]

Compared: the whole result record except what depends on the machine or the clock (`timings`, `machine`, `versions`,
`theory_recomputed`, and the trajectory's `code` directory); of `settings`, the keys the committed file records (newer
code records more). Floats must be equal as numbers (NaN equals NaN). Some committed trials were run on another CPU
(AMD EPYC) or by older code, where rounding in BLAS and torch may differ: for those the run of this script on the code
before a change, saved with --save, is the reference (--baseline). Exit 1 when a trial differs from the baseline (or,
without one, from the committed file)."""

import argparse, json, math, os, sys, time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NTK_STUDY_THREADS"):
    os.environ[_var] = "1"  # before numpy and torch are imported

root = Path(__file__).resolve().parent.parent

# name -> committed trial file (relative to the repository root): one of each kind of trial
TRIALS = {
    "kernels": "outputs/paper-kernels/trial_0000.json",
    "nn1": "outputs/paper-nn1/trial_0000.json",
    "eq-d1-w512": "outputs/equivalence/d1-paper-w00512/trial_0000.json",
    "eq-d1-w2048": "outputs/equivalence/d1-paper-w02048/trial_0000.json",
    "eq-d2-w64": "outputs/equivalence/d2-paper-e1000-w00064/trial_0000.json",
    "stopping": "outputs/noise/noise0-exact/trial_0000.json",
    "theorem": "outputs/equivalence/theorem-table/trial_0000.json",
    "trajectory": "outputs/equivalence-map/d1-lr0.2-e10000-w00512/trial_0000.json",
}
NOT_COMPARED = {"timings", "machine", "versions", "theory_recomputed"}  # machine- or clock-dependent
NOT_COMPARED_PATHS = {"/trajectory/code"}  # the directory the code was imported from


def differences(old, new, where=""):
    "Paths at which the JSON values `old` and `new` differ (floats bit for bit, NaN equal to NaN)."
    if where in NOT_COMPARED_PATHS:
        return []
    if isinstance(old, dict) and isinstance(new, dict):
        out = [f"{where}/{k}: missing" for k in old.keys() - new.keys()]
        out += [f"{where}/{k}: added" for k in new.keys() - old.keys()]
        for k in sorted(old.keys() & new.keys()):
            out += differences(old[k], new[k], f"{where}/{k}")
        return out
    if isinstance(old, list) and isinstance(new, list):
        if len(old) != len(new):
            return [f"{where}: length {len(old)} != {len(new)}"]
        return [d for i, (a, b) in enumerate(zip(old, new)) for d in differences(a, b, f"{where}[{i}]")]
    if isinstance(old, float) and isinstance(new, float) and math.isnan(old) and math.isnan(new):
        return []
    if type(old) is not type(new) and not {type(old), type(new)} <= {int, float}:
        return [f"{where}: {old!r} != {new!r} (types)"]
    return [] if old == new else [f"{where}: {old!r} != {new!r}"]


def comparable(record, settings_keys=None):
    "The part of a result record that is compared."
    rec = {k: v for k, v in record.items() if k not in NOT_COMPARED}
    if settings_keys is not None:
        rec["settings"] = {k: v for k, v in rec["settings"].items() if k in settings_keys}
    return rec


def rerun(committed):
    "The result record of the committed trial's settings, rerun here (no file written, no checkpoints)."
    from ntk_study.experiment import TrialSettings, run_trial

    known = {f for f in TrialSettings.__dataclass_fields__}
    settings = {k: v for k, v in committed["settings"].items() if k in known}
    dropped = sorted(set(committed["settings"]) - known)
    if dropped:
        print(f"  settings not known to this code, left out: {dropped}")
    record = run_trial(**settings, out_dir="", checkpoint_seconds=0)
    return json.loads(json.dumps(record))  # as it would be read back from its file


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--save", help="write each rerun record to DIR/NAME.json")
    ap.add_argument("--baseline", help="compare with the records an earlier run saved in DIR")
    ap.add_argument("--only", default="", help="comma-separated names of " + ", ".join(TRIALS))
    a = ap.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    names = [n for n in a.only.split(",") if n] or list(TRIALS)
    unknown = [n for n in names if n not in TRIALS]
    if unknown:
        sys.exit(f"unknown trial name(s) {unknown}; names: {', '.join(TRIALS)}")
    failed = []
    for name in names:
        committed = json.loads((root / TRIALS[name]).read_text())
        t0 = time.perf_counter()
        new = rerun(committed)
        secs = time.perf_counter() - t0
        if a.save:
            Path(a.save).mkdir(parents=True, exist_ok=True)
            (Path(a.save) / f"{name}.json").write_text(json.dumps(new, indent=1, sort_keys=True))
        keys = set(committed["settings"])
        vs_committed = differences(comparable(committed), comparable(new, keys))
        line = f"{name} ({TRIALS[name]}, {secs:.0f} s): committed file "
        line += "bit-identical" if not vs_committed else f"differs at {len(vs_committed)} place(s)"
        reference = vs_committed
        if a.baseline:
            base = json.loads((Path(a.baseline) / f"{name}.json").read_text())
            reference = differences(comparable(base), comparable(new))
            line += "; baseline " + ("bit-identical" if not reference else f"differs at {len(reference)} place(s)")
        print(line, flush=True)
        for d in (vs_committed if not a.baseline else reference)[:8]:
            print("    " + d)
        if reference:
            failed.append(name)
    what = "the baseline" if a.baseline else "the committed files"
    print(f"{len(names) - len(failed)} of {len(names)} trials bit-identical to {what}" +
          (f"; differ: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
