"""The default study of `make study`: the `quick` preset (both kernel studies), resumable."""

import sys
from ntk_study.runner import main

if __name__ == "__main__":
    sys.exit(main(["run", "--preset", "quick", *sys.argv[1:]]))
