"""Run `nbdev_test` on every notebook (and, with --docs, the docs build) and close with one line `N passed, M failed`."""
import argparse, re, subprocess, sys
from pathlib import Path

root = Path(__file__).resolve().parents[1]

def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--flags", default="", help="nbdev test flags to run as well (e.g. 'slow', 'bench')")
    p.add_argument("--path", default=None, help="one notebook or a glob (default: every notebook)")
    p.add_argument("--docs", action="store_true", help="also build the docs site (tools/build_docs.py), counted as one more check")
    a = p.parse_args()
    from nbdev.doclinks import nbglob
    from nbdev.test import _keep_file
    files = [f for f in nbglob(a.path, as_path=True) if _keep_file(f, ".notest")] if a.path else \
            [f for f in nbglob(str(root / "nbs"), as_path=True) if _keep_file(f, ".notest")]
    cmd = [str(Path(sys.executable).parent / "nbdev_test"), "--timing", "--do_print"]
    if a.flags: cmd += ["--flags", a.flags]
    if a.path: cmd += ["--path", a.path]
    run = subprocess.run(cmd, cwd=root, stderr=subprocess.PIPE, text=True)
    sys.stderr.write(run.stderr)
    failed = []
    if "Failed On The Following Notebooks" in run.stderr:
        tail = run.stderr.split("Failed On The Following Notebooks:", 1)[1]
        failed = re.findall(r"^\t(\S+\.ipynb)\s*$", tail, re.M)
    if run.returncode != 0 and not failed: failed = ["(nbdev_test itself)"]
    n_total = len(files)
    if a.docs:
        n_total += 1
        print("building the docs site (tools/build_docs.py) ...", flush=True)
        if subprocess.run([sys.executable, str(root / "tools" / "build_docs.py")], cwd=root).returncode: failed.append("docs build")
    n_failed = len(failed)
    print(f"{n_total - n_failed} passed, {n_failed} failed")
    if failed: print("failed: " + " ".join(failed))
    sys.exit(1 if n_failed else 0)

if __name__ == "__main__": main()
