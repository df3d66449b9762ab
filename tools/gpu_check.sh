#!/bin/sh
# The GPU job, one device call of at most 600 s (a lent machine: one GPU; torch, numpy, scipy, matplotlib, tqdm):
#     bash tools/gpu_check.sh --out "$OUT"
# probes NN2 at width 10000, checks 3 epochs against the CPU reference, then trains the next missing trials of
# outputs/paper-nn2 into $OUT while they fit in the budget (560 s from this line, BUDGET=... to change it).
# Commit what comes back with: python tools/commit_gpu_job.py FOLDER (chapter 08_cluster).
STARTED=$(date +%s.%N)
cd "$(dirname "$0")/.." || exit 2
PY=${PYTHON:-}
if [ -z "$PY" ]; then  # the first interpreter that has torch (found without importing it)
    for c in python3 python; do
        if "$c" -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('torch') is None)" 2>/dev/null; then
            PY=$c
            break
        fi
    done
fi
exec "${PY:-python3}" tools/gpu_check.py --started "$STARTED" --budget "${BUDGET:-560}" "$@"
