#!/bin/sh
# The GPU check on a lent device machine (one GPU; torch, scipy, matplotlib, tqdm; no package registry): the training
# benchmark on CUDA and as many NN2 paper-scale trials as fit in 8 minutes; figures in $OUT (else outputs/bench/gpu).
set -e
cd "$(dirname "$0")/.."
python3 tools/gpu_check.py --out "${OUT:-outputs/bench/gpu}" --budget "${BUDGET:-480}" "$@"
