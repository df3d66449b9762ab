"""The default study of `make study`. Until the pipeline chapter lands: run the kernel chapter as a demonstration."""
from pathlib import Path
import papermill as pm

root = Path(__file__).resolve().parents[1]
out = root / "outputs" / "kernels_demo.ipynb"
print("make study: the pipeline chapter has not landed yet; running the kernel chapter (00_kernels) as a demonstration")
pm.execute_notebook(str(root / "nbs" / "00_kernels.ipynb"), str(out), cwd=str(root / "nbs"), progress_bar=True)
print(f"executed notebook written to {out.relative_to(root)}")
