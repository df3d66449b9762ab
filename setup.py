"""Package metadata, read from settings.ini (the nbdev 2 layout); pyproject.toml leaves these fields to this file."""

import shutil
from configparser import ConfigParser
from pathlib import Path
from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

cfg = ConfigParser(delimiters=["="])
cfg.read("settings.ini", encoding="utf-8")
c = cfg["DEFAULT"]
readme = Path("README.md")
RUN_NOTEBOOKS = ("04_experiment.ipynb", "05_summary.ipynb")  # the notebooks papermill runs (one trial; a run's summary)


class build_py_with_notebooks(build_py):
    """Copy the notebooks papermill runs from nbs/ into the built package (ntk_study/notebooks/): nbs/ stays their one
    source."""

    def run(self):
        super().run()
        dest = Path(self.build_lib) / c["lib_name"] / "notebooks"
        dest.mkdir(parents=True, exist_ok=True)
        for name in RUN_NOTEBOOKS:
            shutil.copyfile(Path(c["nbs_path"]) / name, dest / name)


setup(
    name=c["lib_name"],
    version=c["version"],
    description=c["description"],
    long_description=readme.read_text(encoding="utf-8") if readme.exists() else c["description"],
    long_description_content_type="text/markdown",
    keywords=c["keywords"].split(),
    author=c["author"],
    author_email=c["author_email"],
    license="Apache-2.0",
    url=c["git_url"].replace("%(user)s", c["user"]).replace("%(repo)s", c["repo"]),
    classifiers=[
        "Programming Language :: Python :: 3",
        "Intended Audience :: Science/Research",
        "License :: OSI Approved :: Apache Software License",
    ],
    python_requires=f">={c['min_python']}",
    packages=find_packages(include=[c["lib_name"], c["lib_name"] + ".*"]),
    include_package_data=True,
    package_data={c["lib_name"]: ["csrc/*.cpp", "csrc/*.c", "csrc/*.h"]},
    cmdclass={"build_py": build_py_with_notebooks},
    install_requires=c.get("requirements", "").split(),
    extras_require={
        "dev": c.get("dev_requirements", "").split(),
        "cluster": c.get("cluster_requirements", "").split(),  # dask-jobqueue: SLURM/PBS workers
    },
    entry_points={
        "console_scripts": c.get("console_scripts", "").split(),
        "nbdev": [f"{c['lib_path']}={c['lib_path']}._modidx:d"],
    },
    zip_safe=False,
)
