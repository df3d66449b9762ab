"""Write the constraints file: every package of .venv at its installed version (this package excluded), the versions the
test suite passed with. `make constraints` runs it; the Makefile's set-up and the install check read the file."""

import subprocess, sys
from datetime import date
from pathlib import Path


def main(path):
    frozen = subprocess.run(
        [sys.executable, "-m", "pip", "freeze", "--exclude-editable"], check=True, capture_output=True, text=True
    ).stdout.splitlines()
    pins = sorted((l for l in frozen if "==" in l and not l.lower().startswith("ntk")), key=str.lower)
    head = [
        f"# The versions `make test` passed with (Python {sys.version.split()[0]}), written {date.today()} by",
        "# `make constraints` (tools/write_constraints.py). The Makefile installs with `pip install -c "
        "constraints.txt`.",
    ]
    Path(path).write_text("\n".join(head + pins) + "\n")
    print(f"{path}: {len(pins)} packages")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "constraints.txt")
