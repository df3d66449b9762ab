"""The test command: `nbdev_test` on every notebook, the CPU-sensitive chapters again under every CPU kind this machine
can
force (tools/cpu_kinds.py), the installed package on its own (tools/check_install.py) and, with --docs, the docs build.
Ends with one line `N passed, M failed`."""

import argparse, os, re, subprocess, sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(root / "tools"))
from cpu_kinds import cpu_model, kinds_here

CPU_SENSITIVE = ["00_kernels.ipynb", "03a_regression.ipynb", "03b_training.ipynb"]  # BLAS, SIMD maths, compiled loops


def nbdev_test(path=None, flags="", env=None):
    "Run nbdev_test; returns the notebooks that failed (or a marker when nbdev_test itself failed)."
    cmd = [str(Path(sys.executable).parent / "nbdev_test"), "--timing", "--do_print"]
    if flags:
        cmd += ["--flags", flags]
    if path:
        cmd += ["--path", path]
    run = subprocess.run(cmd, cwd=root, stderr=subprocess.PIPE, text=True, env=env)
    sys.stderr.write(run.stderr)
    failed = []
    if "Failed On The Following Notebooks" in run.stderr:
        tail = run.stderr.split("Failed On The Following Notebooks:", 1)[1]
        failed = re.findall(r"^\t(\S+\.ipynb)\s*$", tail, re.M)
    if run.returncode != 0 and not failed:
        failed = ["(nbdev_test itself)"]
    return failed


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--flags", default="", help="nbdev test flags to run as well (e.g. 'slow', 'bench')")
    p.add_argument(
        "--path", default=None, help="one notebook or a glob (default: every notebook, and the other checks)"
    )
    p.add_argument("--docs", action="store_true", help="also build the docs site (tools/build_docs.py)")
    a = p.parse_args()
    from nbdev.doclinks import nbglob
    from nbdev.test import _keep_file

    files = [f for f in nbglob(a.path or str(root / "nbs"), as_path=True) if _keep_file(f, ".notest")]
    failed = nbdev_test(a.path, a.flags)
    n_total = len(files)
    if not a.path and not a.flags:
        kinds = kinds_here()
        print(f"CPU: {cpu_model()}; the CPU-sensitive chapters again as CPU kinds {', '.join(kinds)}", flush=True)
        for kind, forced in kinds.items():
            for nb in CPU_SENSITIVE:
                n_total += 1
                print(f"{nb} as {kind} ({' '.join(f'{k}={v}' for k, v in forced.items())})", flush=True)
                if nbdev_test(f"nbs/{nb}", env={**os.environ, **forced}):
                    failed.append(f"{nb}[{kind}]")
        for tool, what in (("check_style.py", "style"), ("import_graph.py", "imports point down")):
            n_total += 1
            print(f"{what} (tools/{tool}) ...", flush=True)
            if subprocess.run([sys.executable, str(root / "tools" / tool), "--check"], cwd=root).returncode:
                failed.append(what)
        n_total += 1
        print("the installed package on its own (tools/check_install.py) ...", flush=True)
        if subprocess.run([sys.executable, str(root / "tools" / "check_install.py")], cwd=root).returncode:
            failed.append("install check")
    if a.docs:
        n_total += 1
        print("building the docs site (tools/build_docs.py) ...", flush=True)
        if subprocess.run([sys.executable, str(root / "tools" / "build_docs.py")], cwd=root).returncode:
            failed.append("docs build")
    print(f"{n_total - len(failed)} passed, {len(failed)} failed")
    if failed:
        print("failed: " + " ".join(failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
