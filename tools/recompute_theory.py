"""Recompute the theory side of committed equivalence trials with the current code, keeping what training produced.

    .venv/bin/python tools/recompute_theory.py outputs/equivalence [--jobs 2] [--force]

Each `*/trial_*.json` of task "equivalence" gets its theorem-side predictors, distances and ladder from
`ntk_study.theorem.recompute_theory` (the trained networks' stored test predictions and the linearised SGD predictions
are kept) and a `theory_recomputed` entry with the time, versions and machine. Records already made by the current
theory code (they hold the ladder) are skipped unless --force. Each file is rewritten atomically.
"""

import argparse
import json
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timezone
from pathlib import Path


def recompute_file(path):
    "Recompute one trial file in place; returns its path."
    import torch

    torch.set_num_threads(1)
    from ntk_study.experiment import library_versions, machine_record, write_json_atomic
    from ntk_study.theorem import recompute_theory

    record = json.loads(Path(path).read_text())
    scores, eq = recompute_theory(record)
    record["rmse"], record["equivalence"] = scores, eq
    record["theory_recomputed"] = dict(
        at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        why="theory side recomputed by newer code; the trained networks' predictions are the original trial's",
        versions=library_versions(),
        machine=machine_record(),
    )
    write_json_atomic(record, path)
    return path


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("directory")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--force", action="store_true", help="also records already made by the current theory code")
    a = ap.parse_args(argv)
    todo = []
    for f in sorted(Path(a.directory).glob("*/trial_*.json")):
        eq = json.loads(f.read_text()).get("equivalence")
        if eq is not None and (a.force or "ladder" not in eq):
            todo.append(str(f))
    if not todo:
        print("nothing to recompute")
        return 0
    os.environ.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    from tqdm.auto import tqdm

    with ProcessPoolExecutor(a.jobs) as pool:
        for _ in tqdm(pool.map(recompute_file, todo), total=len(todo), desc="recompute theory", unit="trial"):
            pass
    print(f"{len(todo)} trial(s) recomputed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
