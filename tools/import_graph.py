"""The package's import structure: which module of ntk_study imports which (at the top or inside a function), drawn in
chapter order (outputs/figures/imports.png). Exits 1 if an import points up the chapter order. `--check`: no figure."""

import ast, re, sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent
package = root / "ntk_study"


def chapters():
    "`{module: chapter notebook}` from the 'File to edit' line nbdev writes at the top of each exported module."
    out = {}
    for f in sorted(package.glob("*.py")):
        m = re.search(r"File to edit: \.\./nbs/(\S+)\.ipynb", f.read_text())
        if m:
            out[f.stem] = m.group(1)
    return out


def imports(module):
    "The ntk_study modules that `module` imports, each with 'top' or 'lazy' (inside a function)."
    tree = ast.parse((package / f"{module}.py").read_text())
    found = {}
    lazy_nodes = {
        id(n)
        for f in ast.walk(tree)
        if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
        for n in ast.walk(f)
        if isinstance(n, (ast.Import, ast.ImportFrom))
    }
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level == 1:
                names = [base] if base else [a.name for a in node.names]
            elif base.startswith("ntk_study."):
                names = [base.split(".")[1]]
            elif base == "ntk_study":
                names = [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name.split(".")[1] for a in node.names if a.name.startswith("ntk_study.")]
        for name in names:
            if (package / f"{name}.py").exists():
                kind = "lazy" if id(node) in lazy_nodes else "top"
                found[name] = "top" if found.get(name) == "top" else kind
    return found


def draw(order, edges, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch

    y = {m: len(order) - i for i, m in enumerate(order)}
    fig, ax = plt.subplots(figsize=(7.5, 0.55 * len(order) + 0.8))
    for m, ch in order.items():
        ax.text(0, y[m], f"{ch}  ->  ntk_study.{m}", ha="right", va="center", fontsize=9, family="monospace")
    for (a, b), kind in sorted(edges.items()):
        down = list(order).index(a) > list(order).index(b)
        span = abs(y[a] - y[b])
        ax.add_patch(
            FancyArrowPatch(
                (0.25, y[a]),
                (0.25, y[b]),
                connectionstyle=f"arc3,rad={0.1 + 0.04 * span}",
                arrowstyle="-|>",
                mutation_scale=10,
                lw=1.0,
                linestyle="-" if kind == "top" else "--",
                color="tab:blue" if down else "tab:red",
            )
        )
    ax.set_xlim(-4.2, 3.2)
    ax.set_ylim(0.3, len(order) + 0.7)
    ax.axis("off")
    ax.set_title("ntk_study imports, in chapter order (solid: module level; dashed: inside a function)", fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)


def main(check_only=False):
    order = dict(sorted(chapters().items(), key=lambda kv: kv[1]))
    rank = {m: i for i, m in enumerate(order)}
    edges = {(m, dep): kind for m in order for dep, kind in imports(m).items() if dep in order and dep != m}
    up = [(a, b) for (a, b) in edges if rank[b] > rank[a]]
    for (a, b), kind in sorted(edges.items(), key=lambda e: (rank[e[0][0]], rank[e[0][1]])):
        print(f"{order[a]:>15} {a:12s} -> {b:12s} ({kind}){'   UP' if (a, b) in up else ''}")
    if not check_only:
        draw(order, edges, root / "outputs" / "figures" / "imports.png")
    if up:
        sys.exit(f"imports pointing up the chapter order: {', '.join(f'{a} -> {b}' for a, b in up)}")
    print(f"{len(edges)} imports between {len(order)} modules, every one down the chapter order")


if __name__ == "__main__":
    main("--check" in sys.argv)
