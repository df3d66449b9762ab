"""Run every chapter at its test-sized settings (IN_TEST=1, as `nbdev_test`) and keep the outputs in the notebook, so
that a reader on a code host sees the numbers and figures without running anything. Cells flagged `bench` or `slow`
are left unrun; `nbdev_export` cells too. `make outputs` runs it, then cleans the metadata (the outputs stay)."""

import json, os, sys, time
from pathlib import Path

root = Path(__file__).resolve().parent.parent
SKIP_FLAGS = {"bench", "slow"}


def execute(path):
    "Execute the notebook at `path` in its own directory and write it back with its outputs."
    from execnb.nbio import read_nb, write_nb
    from execnb.shell import CaptureShell
    from nbdev.process import NBProcessor

    nb = NBProcessor(path, process=True).nb

    def skip(cell):
        if cell.cell_type != "code" or "nbdev_export" + "(" in cell.source:
            return True
        return bool(SKIP_FLAGS & set(getattr(cell, "directives_", {}) or {}))

    shell = CaptureShell(path, mpl_format="png")  # one resolution, half the bytes of retina
    cwd = os.getcwd()
    os.chdir(path.parent)
    try:
        shell.run_all(nb, exc_stop=True, preproc=skip)
    finally:
        os.chdir(cwd)
    raw = json.loads(path.read_text())
    # the outputs go into the file as stored (the processed copy lacks the directive lines)
    for cell, run in zip(raw["cells"], nb.cells):
        if cell["cell_type"] == "code":
            cell["outputs"] = [dict(o) for o in run.get("outputs", [])] if not skip(run) else []
            cell["execution_count"] = None
    path.write_text(json.dumps(raw, indent=1, ensure_ascii=False) + "\n")


def main(names):
    os.environ["IN_TEST"] = "1"
    paths = [root / "nbs" / n for n in names] if names else sorted((root / "nbs").glob("[0-9]*.ipynb"))
    for p in paths:
        t = time.perf_counter()
        execute(p)
        print(f"{p.name}: outputs kept ({time.perf_counter() - t:.0f} s)", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
