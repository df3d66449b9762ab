"""The house style, checked: lines of at most 120 characters and one statement per line (ruff's E501, E702, E703) in the
notebooks' code, the exported modules and tools/, and no unused import or undefined name in the modules (F401,
F821). The modules' generated lines count too: a chapter's first summary line becomes its module docstring, and
`make export` rewraps nbdev's `__all__` (tools/tidy_exports.py). Only nbdev's index `_modidx.py` is left out.
Exit 1 with the offending lines."""

import json, subprocess, sys
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
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
