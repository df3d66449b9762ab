"""Sphinx configuration of the docs site: MyST-NB renders the notebooks (preprocessed into _proc/ by tools/build_docs.py)."""
project = "ntk-study"
author = "ntk-study developers"
extensions = ["myst_nb"]
root_doc = "index"
exclude_patterns = ["_build", "**.ipynb_checkpoints", "outputs/**/*.ipynb", "outputs/**/*.md"]
html_theme = "sphinx_book_theme"
html_title = "ntk-study"
html_theme_options = {"show_toc_level": 2, "use_download_button": False, "use_fullscreen_button": False}
# MathJax served from the docs themselves (copied by tools/build_docs.py from the npm package), never from a CDN;
# kept out of _static, where Sphinx would load every .js file on every page
mathjax_path = "../mathjax/tex-mml-chtml.js"
html_extra_path = ["../.cache/docs_extra"]
myst_enable_extensions = ["dollarmath", "amsmath"]
nb_execution_mode = "cache"
nb_execution_cache_path = "../.cache/jupyter_cache"
nb_execution_timeout = 900
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_ipywidgets_js = {}          # no widget scripts from a CDN
nb_merge_streams = True
nb_render_markdown_format = "myst"  # markdown outputs (the reports' tables) parsed as MyST: tables render
suppress_warnings = ["myst.header"]   # nbdev chapters start at '#' and may skip levels
