#!/usr/bin/env bash
# The equivalence map's long sweep (chapter 03e), run from a pinned git worktree so that edits to the checkout cannot
# change the code under it, and committed in parts.
#   bash tools/map_sweep.sh start [JOBS] [PATTERN...]  # pin HEAD in $SWEEP/code, seed $SWEEP/out from outputs/, start
#                                          # in background: the whole preset, or the studies matching each glob PATTERN
#                                          # (runner --studies), one part after another in the order given
#   bash tools/map_sweep.sh sync           # copy finished records (trial json, run.json, run_log) into outputs/ and
#                                          # regenerate the map's report there
#   bash tools/map_sweep.sh status         # trials per study, here and in the sweep
# $SWEEP defaults to ../sweep beside the checkout; the runner resumes: finished trials are skipped.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
sweep="${SWEEP:-$(dirname "$root")/sweep}"
out="$sweep/out/equivalence-map"
committed="$root/outputs/equivalence-map"

copy_records() {  # copy_records FROM TO: trial_*.json, run.json and run_log.jsonl, nothing else
    (cd "$1" && find . \( -name 'trial_*.json' -o -name run.json -o -name run_log.jsonl \) -print0) |
        while IFS= read -r -d '' f; do mkdir -p "$2/$(dirname "$f")"; cp -p "$1/$f" "$2/$f"; done
}

case "${1:-}" in
start)
    if pgrep -f "preset equivalence-map" >/dev/null; then echo "a sweep is already running" >&2; exit 1; fi
    mkdir -p "$out"
    [ -d "$committed" ] && copy_records "$committed" "$out"
    [ -d "$sweep/code" ] && git -C "$root" worktree remove --force "$sweep/code"
    git -C "$root" worktree add --detach "$sweep/code" HEAD >/dev/null
    cd "$sweep/code"
    jobs="${2:-1}"
    parts=("${@:3}")
    [ ${#parts[@]} -eq 0 ] && parts=("*")
    script='for p in "$@"; do "$RUNNER" run --preset equivalence-map --jobs "$JOBS" --out "$OUT" --studies "$p"; done'
    setsid nohup nice -n 10 env PYTHONPATH="$sweep/code" OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \
        NTK_STUDY_THREADS=1 RUNNER="$root/.venv/bin/ntk-study" JOBS="$jobs" OUT="$out" \
        bash -c "$script" parts "${parts[@]}" >"$sweep/sweep.log" 2>&1 &
    echo "sweep started at $(git rev-parse --short HEAD) into $out, parts: ${parts[*]} (log: $sweep/sweep.log)"
    ;;
sync)
    copy_records "$out" "$committed"
    "$root/.venv/bin/ntk-study" summary "$committed"  # the map's report (summary.md, map.png) from the records
    echo "copied into $committed and its report regenerated; commit with: git add outputs/equivalence-map"
    ;;
status)
    for d in "$committed"/*/; do
        s=$(basename "$d")
        printf '%-36s committed %2s  in sweep %2s\n' "$s" "$(ls "$d" | grep -c '^trial_.*json$' || true)" \
            "$(ls "$out/$s" 2>/dev/null | grep -c '^trial_.*json$' || true)"
    done
    ;;
*)
    echo "usage: bash tools/map_sweep.sh start [JOBS] | sync | status" >&2
    exit 2
    ;;
esac
