"""Check the built docs the way a reader sees them: headless Chromium loads pages from a local server, and the check
asserts that MathJax typeset the math and that the figures are there; screenshots go to _docs_screens/.
Needs Debian's chromium (`apt-get install chromium`); not part of `make test`. Run: `make docs-check` (after `make
docs`)."""

import functools, http.server, re, shutil, subprocess, sys, threading
from pathlib import Path

root = Path(__file__).resolve().parents[1]
site, shots = root / "_docs", root / "_docs_screens"
PAGES = {
    "00_kernels.html": dict(min_math=50, min_img=0),
    "index.html": dict(min_math=3, min_img=3),
    "03_protocol.html": dict(min_math=1, min_img=0),
    "03c_theorem.html": dict(min_math=3, min_img=0),
    "07_runner.html": dict(min_math=0, min_img=0),
    "01_networks.html": dict(min_math=5, min_img=1),
    "03b_training.html": dict(min_math=10, min_img=0),
    "06_equivalence.html": dict(min_math=10, min_img=3),
}
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    "--virtual-time-budget=15000",
]


def main():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        sys.exit("chromium not found: apt-get install chromium")
    if not (site / "index.html").exists():
        sys.exit("no _docs/index.html: run `make docs` first")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a):
            pass

    handler = functools.partial(Quiet, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    shots.mkdir(exist_ok=True)
    failures = []
    for page, need in PAGES.items():
        dom = subprocess.run(
            [chromium, *FLAGS, "--dump-dom", base + page], capture_output=True, text=True, timeout=120
        ).stdout
        n_math = len(re.findall(r"<mjx-container", dom))
        n_img = len(re.findall(r"<img [^>]*src=\"[^\"]*(_images|outputs)/[^\"]+\.png", dom))
        raw = len(re.findall(r"\\\(|\\\[", dom.split("<body", 1)[-1]))  # math left untypeset
        print(f"{page}: {n_math} typeset formulas, {n_img} figures, {raw} untypeset delimiters")
        if n_math < need["min_math"] or n_img < need["min_img"]:
            failures.append(page)
        subprocess.run(
            [
                chromium,
                *FLAGS,
                "--window-size=1280,2400",
                f"--screenshot={shots / page.replace('.html', '.png')}",
                base + page,
            ],
            capture_output=True,
            timeout=120,
        )
    server.shutdown()
    print(f"screenshots in {shots}")
    if failures:
        sys.exit("pages without typeset math or figures: " + ", ".join(failures))


if __name__ == "__main__":
    main()
