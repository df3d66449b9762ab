"""The installed package on its own: a fresh venv outside the repository, torch's CPU wheel, then a non-editable
install of
this package with its runtime requirements only (no dev extras, versions from constraints.txt), then `ntk-study run
--preset
smoke` to its summary from a working directory outside the repository. Exit 0 when that run exits 0 with its summary."""

import json, os, shutil, subprocess, sys, tempfile, time
from pathlib import Path

root = Path(__file__).resolve().parents[1]
TORCH = "torch==2.13.0"


def step(what, cmd, **kw):
    t = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode:
        sys.exit(f"install check: {what} failed (exit {r.returncode}):\n{(r.stdout + r.stderr)[-3000:]}")
    print(f"  {what}: {time.perf_counter() - t:.0f} s", flush=True)
    return r


def run_smoke(what, venv, out, cwd, env, extra=()):
    "ntk-study run --preset smoke into `out` from `cwd`: exit 0, 4 trial files and the summary."
    step(
        what,
        [str(venv / "bin" / "ntk-study"), "run", "--preset", "smoke", "--out", str(out), "--quiet", *extra],
        cwd=cwd,
        env=env,
    )
    trials = sorted(out.glob("trial_*.json"))
    if len(trials) != 4 or not (out / "summary.md").exists():
        sys.exit(
            f"install check: expected 4 trial files and summary.md in {out}, found {[p.name for p in out.iterdir()]}"
        )


def main():
    work = Path(tempfile.mkdtemp(prefix="ntk_install_"))
    try:
        venv, py = work / "venv", work / "venv" / "bin" / "python"
        src = work / "src"  # a copy of the tracked files: the build must not write into the checkout
        files = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
            cwd=root,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.splitlines()
        for f in files:
            if (root / f).is_file() and not f.startswith("outputs/"):
                (src / f).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(root / f, src / f)
        print(f"install check in {work}:", flush=True)
        step("venv", [sys.executable, "-m", "venv", str(venv)])
        pip = [str(py), "-m", "pip", "install", "--quiet", "-c", str(root / "constraints.txt")]
        step("torch (CPU wheel)", pip + [TORCH])
        step("pip install . (non-editable, no dev extras)", pip + [str(src)])
        leaked = [
            m
            for m in ("nbdev", "fastcore", "execnb")
            if subprocess.run([str(py), "-c", f"import {m}"], capture_output=True).returncode == 0
        ]
        if leaked:
            sys.exit(f"install check: development packages were installed with the runtime ones: {leaked}")
        cwd = work / "elsewhere"
        cwd.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHONPATH"))}
        env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        run_smoke("ntk-study run --preset smoke", venv, work / "run", cwd, env)
        # a network trial too: the compiled loops' C++ sources must ship with the package
        network = [
            "--set",
            "methods=NN1,NN2,NTKB1",
            "--set",
            "nn_width=64",
            "--set",
            "nn1_epochs=3",
            "--set",
            "nn2_epochs=3",
        ]
        run_smoke("ntk-study run --preset smoke with NN1 and NN2", venv, work / "run-networks", cwd, env, network)
        record = json.loads((work / "run-networks" / "trial_0000.json").read_text())
        if record["networks"]["NN1"]["loop"] != "compiled" and "avx2" in (
            Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
        ):
            sys.exit(
                f"install check: NN1 trained with the {record['networks']['NN1']['loop']!r} loop, not the compiled one"
            )
        step("pip install -e . (editable, no dev extras)", pip + ["-e", str(src)])
        run_smoke("ntk-study run --preset smoke (editable)", venv, work / "run-editable", cwd, env)
        print("install check: ok (non-editable and editable installs, runtime requirements only)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
