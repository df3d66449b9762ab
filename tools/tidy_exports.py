"""Rewrap the `__all__` that nbdev_export writes into each module of ntk_study/ to 120 columns. nbdev 2.4.14 wraps
the list at 120 before it prefixes `__all__ = `, so its first line can reach 130. `make export` runs this after
nbdev_export; the style check (tools/check_style.py) fails on a module exported without it."""

import ast, re, sys
from pathlib import Path
from textwrap import TextWrapper

root = Path(__file__).resolve().parent.parent
ALL = re.compile(r"^__all__ = \[.*?\]$", re.M | re.S)


def tidy(path):
    "Rewrap `__all__` in the module at `path`; True if the file changed."
    text = path.read_text()
    m = ALL.search(text)
    if not m:
        return False
    names = ast.literal_eval(m.group(0).split("=", 1)[1].strip())
    wrapper = TextWrapper(width=120, initial_indent="__all__ = ", subsequent_indent=" " * 11, break_long_words=False)
    new = text[: m.start()] + "\n".join(wrapper.wrap(str(names))) + text[m.end() :]
    if new == text:
        return False
    path.write_text(new)
    return True


def main():
    changed = [p.name for p in sorted((root / "ntk_study").glob("*.py")) if p.name != "_modidx.py" and tidy(p)]
    print(f"__all__ rewrapped in {', '.join(changed)}" if changed else "__all__: every module within 120 columns")


if __name__ == "__main__":
    main()
