"""The house style, checked: lines of at most 120 characters and one statement per line (ruff's E501, E702, E703) in the
notebooks' code, the exported modules and tools/, and no unused import or undefined name in the modules (F401,
F821). nbdev's own generated lines (a module's first line, its docstring from the chapter's summary, and `__all__`)
and its index `_modidx.py` are not ours to format. Exit 1 with the offending lines."""
import json, subprocess, sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent
RUFF = [str(Path(sys.executable).parent / "ruff"), "check", "--line-length", "120", "--output-format", "json",
        "--no-cache"]


def generated(path, row):
    "Is line `row` of module `path` one that nbdev_export writes itself?"
    lines = Path(path).read_text().splitlines()
    if row == 1: return True
    start = next((i for i, l in enumerate(lines) if l.startswith("__all__")), None)
    if start is None: return False
    end = next(i for i in range(start, len(lines)) if lines[i].rstrip().endswith("]"))
    return start < row <= end + 1


def main():
    checks = [(["--select", "E501,E702,E703"], ["nbs", "tools", "setup.py"]),
              (["--select", "E501,E702,E703,F401,F821", "--exclude", "ntk_study/_modidx.py"], ["ntk_study"])]
    bad = []
    for select, paths in checks:
        r = subprocess.run(RUFF + select + paths, cwd=root, capture_output=True, text=True)
        for e in json.loads(r.stdout or "[]"):
            row, path = e["location"]["row"], e["filename"]
            if path.endswith(".py") and "/ntk_study/" in path and generated(path, row): continue
            where = f"{Path(path).relative_to(root)}" + (f" cell {e['cell']}" if e.get("cell") else "")
            bad.append(f"{where}:{row}: {e['code']} {e['message']}")
    print("\n".join(bad) if bad else "style: every line within 120 characters, one statement per line, imports clean")
    sys.exit(1 if bad else 0)


if __name__ == "__main__": main()
