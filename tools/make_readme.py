"""Write README.md from nbs/index.ipynb without Quarto: markdown as is, visible code cells as code blocks with their
text output,
and a cell marked `#| readme_include: PATH` replaced by that file (a committed summary table)."""

import json, re
from pathlib import Path

root = Path(__file__).resolve().parents[1]


def cell_text(cell):
    src = "".join(cell["source"])
    if cell["cell_type"] == "markdown":
        return src
    lines = src.splitlines()
    inc = [m.group(1).strip() for l in lines if (m := re.match(r"#\|\s*readme_include:\s*(.+)", l))]
    if inc:
        return "\n\n".join((root / f).read_text().strip() for f in inc)
    if any(re.match(r"#\|\s*(hide|export|exporti|default_exp)\b", l) for l in lines):
        return None
    code = "\n".join(l for l in lines if not l.startswith("#|")).strip()
    outs = []
    for o in cell.get("outputs", []):
        t = o.get("text") or o.get("data", {}).get("text/plain")
        if t:
            outs.append("".join(t).rstrip())
    return f"```python\n{code}\n```" + (f"\n\n```\n" + "\n".join(outs) + "\n```" if outs else "")


def main():
    nb = json.loads((root / "nbs" / "index.ipynb").read_text())
    parts = [t for t in (cell_text(c) for c in nb["cells"]) if t]
    head = "<!-- generated from nbs/index.ipynb by tools/make_readme.py: edit the notebook, not this file -->\n\n"
    (root / "README.md").write_text(head + "\n\n".join(parts) + "\n")
    print("README.md written")


if __name__ == "__main__":
    main()
