"""The house style, checked: lines of at most 120 characters and one statement per line (ruff's E501, E702, E703) in the
notebooks' code, the exported modules and tools/, and no unused import or undefined name in the modules (F401,
F821). The modules' generated lines count too: a chapter's first summary line becomes its module docstring, and
`make export` rewraps nbdev's `__all__` (tools/tidy_exports.py). Only nbdev's index `_modidx.py` is left out.
Exit 1 with the offending lines.

Then the shape of the code (issue 27), measured with `ast` over ntk_study/ and printed: functions over 60 lines;
`train`, `train_textbook`, every `*_trial` function and the kernel internals (the functions of kernels.py) over 6
parameters; any function over 10 (`self`/`cls` not counted, `*args` and `**kwargs` one each); exported notebook cells
over 80 lines. Every limit is enforced (exit 1 when one is exceeded)."""

import ast, json, subprocess, sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent
RUFF = [
    str(Path(sys.executable).parent / "ruff"),
    "check",
    "--line-length",
    "120",
    "--output-format",
    "json",
    "--no-cache",
]


MAX_LINES, MAX_PARAMS, MAX_PARAMS_CORE, MAX_CELL_LINES = 60, 10, 6, 80


def n_params(fn):
    "Parameters of a function: `self`/`cls` of a method not counted, `*args` and `**kwargs` one each."
    a = fn.args
    names = [p.arg for p in a.posonlyargs + a.args]
    n = len(names) + len(a.kwonlyargs) + (a.vararg is not None) + (a.kwarg is not None)
    return n - (1 if names and names[0] in ("self", "cls") else 0)


def is_core(module, name):
    "The functions held to at most 6 parameters: the training entry points, the trials, the kernel internals."
    return name in ("train", "train_textbook") or name.endswith("_trial") or module == "kernels"


def function_metrics():
    "(long functions, core functions with over 6 parameters, functions with over 10) of ntk_study/, as text lines."
    long, core, many = [], [], []
    for path in sorted((root / "ntk_study").glob("*.py")):
        if path.name == "_modidx.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            where, lines, n = f"{path.stem}.{node.name}", node.end_lineno - node.lineno + 1, n_params(node)
            if lines > MAX_LINES:
                long.append(f"{where}: {lines} lines")
            if is_core(path.stem, node.name) and n > MAX_PARAMS_CORE:
                core.append(f"{where}: {n} parameters")
            if n > MAX_PARAMS:
                many.append(f"{where}: {n} parameters")
    return long, core, many


def long_exported_cells():
    "Exported notebook cells over 80 lines, as text lines."
    out = []
    for path in sorted((root / "nbs").glob("*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            src = "".join(cell["source"]) if cell["cell_type"] == "code" else ""
            if src.startswith(("#| export", "#| exports")) and len(src.splitlines()) > MAX_CELL_LINES:
                out.append(f"{path.name} cell {cell.get('id', '?')}: {len(src.splitlines())} lines")
    return out


def shape_report():
    "Print the code-shape metrics; True when every one is within its limit."
    long, core, many = function_metrics()
    cells = long_exported_cells()
    groups = [(f"functions over {MAX_LINES} lines", long),
              (f"train/train_textbook/*_trial/kernel internals over {MAX_PARAMS_CORE} parameters", core),
              (f"functions over {MAX_PARAMS} parameters", many),
              (f"exported notebook cells over {MAX_CELL_LINES} lines", cells)]  # fmt: skip
    for title, items in groups:
        print(f"shape: {len(items)} {title}" + (":" if items else ""))
        for item in items:
            print(f"    {item}")
    ok = not any(items for _, items in groups)
    print("shape: every metric within its limit" if ok else "shape: a limit is exceeded")
    return ok


def main():
    checks = [
        (["--select", "E501,E702,E703"], ["nbs", "tools", "setup.py"]),
        (["--select", "E501,E702,E703,F401,F821", "--exclude", "ntk_study/_modidx.py"], ["ntk_study"]),
    ]
    bad = []
    for select, paths in checks:
        r = subprocess.run(RUFF + select + paths, cwd=root, capture_output=True, text=True)
        for e in json.loads(r.stdout or "[]"):
            row, path = e["location"]["row"], e["filename"]
            where = f"{Path(path).relative_to(root)}" + (f" cell {e['cell']}" if e.get("cell") else "")
            bad.append(f"{where}:{row}: {e['code']} {e['message']}")
    if any("ntk_study/" in b and "E501" in b for b in bad):
        bad.append("(a module exported by nbdev_export alone: `make export` also rewraps its __all__)")
    print("\n".join(bad) if bad else "style: every line within 120 characters, one statement per line, imports clean")
    shape_ok = shape_report()
    sys.exit(1 if bad or not shape_ok else 0)


if __name__ == "__main__":
    main()
