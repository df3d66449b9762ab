"""Build the docs site into _docs/ offline: preprocess the notebooks into _proc/, fetch MathJax 3 from the npm registry
once,
run Sphinx + MyST-NB (warnings are errors), then check that no page loads anything from another host."""

import hashlib, json, os, re, shutil, subprocess, sys, tarfile
from pathlib import Path

root = Path(__file__).resolve().parents[1]
proc, out, cache = root / "_proc", root / "_docs", root / ".cache"
MATHJAX = "3.2.2"
CHAPTERS = [
    "00_kernels",
    "01_networks",
    "02_data",
    "03_protocol",
    "03a_regression",
    "03b_training",
    "03c_theorem",
    "03d_stopping",
    "03e_trajectory",
    "04_experiment",
    "04a_reporting",
    "05_summary",
    "06_equivalence",
    "06a_beyond",
    "07_runner",
    "08_cluster",
]


def directives(src):
    return {m.group(1) for l in src.splitlines() if (m := re.match(r"#\|\s*([\w-]+)", l))}


def outputs_digest():
    "A digest of the committed outputs the chapters read (the files the build copies)."
    h = hashlib.sha256()
    for f in sorted((root / "outputs").rglob("*")):
        if f.is_file() and f.suffix in (".md", ".csv", ".png", ".json") and "quick" not in f.parts:
            h.update(str(f.relative_to(root)).encode())
            h.update(f.read_bytes())
    return h.hexdigest()[:16]


def preprocess(nb_path, dest, digest=""):
    """Strip nbdev's #| lines; hide what nbdev hides; never run benchmarks or slow checks in the docs build. A chapter
    that reads ../outputs gets a hidden cell naming `digest`: the execution cache keys on the code, so new committed
    results re-execute the chapters that show them."""
    nb = json.loads(nb_path.read_text())
    if digest and "../outputs" in nb_path.read_text():
        stamp = {"cell_type": "code", "execution_count": None, "id": "outputs-digest", "outputs": [],
                 "metadata": {"tags": ["remove-cell"]}, "source": f"# the committed outputs: {digest}"}  # fmt: skip
        nb["cells"].insert(0, stamp)
    for c in nb["cells"]:
        src = "".join(c["source"])
        if c["cell_type"] != "code":
            continue
        d = directives(src)
        tags = set(c.get("metadata", {}).get("tags", []))
        if d & {"hide", "default_exp", "exporti"}:
            tags.add("remove-cell")
        if d & {"bench", "slow"}:
            tags |= {"remove-cell", "skip-execution"}
        if "docs-skip" in d:  # minutes of test (a Dask cluster started, workers killed): shown, run by `make test` only
            tags.add("skip-execution")
        c.setdefault("metadata", {})["tags"] = sorted(tags)
        c["source"] = "\n".join(l for l in src.splitlines() if not l.startswith("#|")).lstrip("\n")
        if m := re.fullmatch(
            r"show_doc\(([\w.]+)\)", c["source"].strip()
        ):  # nbdev's renderer emits '---' rules that docutils rejects inside outputs
            c["source"] = (
                f"from IPython.display import Markdown as _Md; import inspect as _inspect\n"
                f'_Md(f"**`{m.group(1)}{{_inspect.signature({m.group(1)})}}`**\\n\\n{{_inspect.getdoc({m.group(1)})}}")'
            )
    if nb_path.stem == "index":
        present = [ch for ch in CHAPTERS if (nb_path.parent / f"{ch}.ipynb").exists()]
        nb["cells"].append(
            {
                "cell_type": "markdown",
                "id": "toctree",
                "metadata": {},
                "source": "```{toctree}\n:hidden:\n:maxdepth: 1\n\n" + "\n".join(present) + "\n```",
            }
        )
    dest.write_text(json.dumps(nb))


def mathjax():
    "MathJax 3 from the npm registry (once), copied beside the pages (not into _static)."
    pkg = cache / f"mathjax-{MATHJAX}"
    if not (pkg / "es5" / "tex-mml-chtml.js").exists():
        cache.mkdir(exist_ok=True)
        subprocess.run(
            ["npm", "pack", f"mathjax@{MATHJAX}", "--pack-destination", str(cache)], check=True, capture_output=True
        )
        with tarfile.open(cache / f"mathjax-{MATHJAX}.tgz") as t:
            t.extractall(cache / "mathjax_tmp", filter="data")
        shutil.rmtree(pkg, ignore_errors=True)
        (cache / "mathjax_tmp" / "package").rename(pkg)
        shutil.rmtree(cache / "mathjax_tmp")
    extra = cache / "docs_extra" / "mathjax"
    shutil.rmtree(extra, ignore_errors=True)
    extra.mkdir(parents=True)
    shutil.copy(pkg / "es5" / "tex-mml-chtml.js", extra)
    for sub in ("input/tex/extensions", "output/chtml/fonts"):
        shutil.copytree(pkg / "es5" / sub, extra / sub)


def check_offline():
    "No page may load a script, style or font from another host."
    bad = []
    for f in out.rglob("*.html"):
        for m in re.finditer(r'<(script|link)[^>]+(src|href)="(https?:)?//[^"]+"', f.read_text(errors="replace")):
            if m.group(1) == "link" and 'rel="stylesheet"' not in m.group(0) and "preload" not in m.group(0):
                continue
            bad.append(f"{f.relative_to(out)}: {m.group(0)[:120]}")
    for f in list(out.rglob("*.css")):
        bad += [
            f"{f.relative_to(out)}: {u}"
            for u in re.findall(r'url\(["\']?(https?://[^)"\']+)', f.read_text(errors="replace"))
        ]
    return bad


def main():
    shutil.rmtree(proc, ignore_errors=True)
    proc.mkdir()
    digest = outputs_digest()
    for nb in sorted((root / "nbs").glob("*.ipynb")):
        preprocess(nb, proc / nb.name, digest)
    shutil.copytree(
        root / "outputs", proc / "outputs", ignore=shutil.ignore_patterns("*.ipynb", "trial_*.json", ".lock", "quick")
    )
    mathjax()
    env = dict(os.environ, IN_TEST="1")  # the chapters' test-sized settings: the build executes every chapter
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-b",
            "html",
            "-c",
            str(root / "docs"),
            "-W",
            "--keep-going",
            "-q",
            str(proc),
            str(out),
        ],
        env=env,
    )
    if r.returncode:
        sys.exit(f"docs build failed (Sphinx warnings are errors): exit {r.returncode}")
    missing = [
        ch
        for ch in ["index"] + CHAPTERS
        if (root / "nbs" / f"{ch}.ipynb").exists() and not (out / f"{ch}.html").exists()
    ]
    bad = check_offline()
    if missing or bad:
        sys.exit("docs check failed:\n" + "\n".join([f"missing page {m}.html" for m in missing] + bad))
    print(f"docs built: {out / 'index.html'} ({len(list(out.glob('*.html')))} pages, no external hosts)")


if __name__ == "__main__":
    main()
