"""The CPU kinds the test command checks, each forced on this machine by the run-time switches of numpy's SIMD dispatch
(NPY_DISABLE_CPU_FEATURES), OpenBLAS's kernels (OPENBLAS_CORETYPE), torch's kernels (ATEN_CPU_CAPABILITY) and MKL's
(MKL_ENABLE_INSTRUCTIONS). A kind runs only where the CPU has its instructions: switches can step down, never up."""

import subprocess, sys
from ntk_study.experiment import cpu_model
from ntk_study.training import cpu_flags

# name: (CPU flags it needs, OpenBLAS core, torch capability, MKL instructions, the highest numpy dispatch level kept)
KINDS = {
    "avx512": ({"avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"}, "SkylakeX", "avx512", "AVX512", "all"),
    "avx2": ({"avx2", "fma"}, "Haswell", "avx2", "AVX2", "avx2"),
    "baseline": (set(), "Prescott", "default", "SSE4_2", "baseline"),
}


def _numpy_dispatch(python):
    """numpy's dispatch targets that this CPU has (names differ between numpy versions), from the test environment's
    numpy."""
    probe = (
        "import numpy; m = numpy._core._multiarray_umath if hasattr(numpy, '_core') else numpy.core._multiarray_umath; "
        "print(' '.join(f for f in m.__cpu_dispatch__ if m.__cpu_features__.get(f)))"
    )
    return subprocess.run([python, "-c", probe], check=True, capture_output=True, text=True).stdout.split()


def _above(level, feature):
    "Is numpy dispatch target `feature` above `level` ('all', 'avx2' or 'baseline')?"
    if level == "all":
        return False
    if level == "baseline":
        return True
    return feature.startswith("AVX512") or feature in ("X86_V4",)


def kinds_here(python=sys.executable):
    "`{kind: environment}` for every kind this CPU can run."
    flags, dispatch = cpu_flags() or set(), _numpy_dispatch(python)
    out = {}
    for kind, (needs, core, torch_cap, mkl, level) in KINDS.items():
        if not needs <= flags:
            continue
        out[kind] = dict(
            OPENBLAS_CORETYPE=core,
            ATEN_CPU_CAPABILITY=torch_cap,
            MKL_ENABLE_INSTRUCTIONS=mkl,
            NPY_DISABLE_CPU_FEATURES=" ".join(f for f in dispatch if _above(level, f)),
        )
    return out


if __name__ == "__main__":
    print(cpu_model())
    for kind, env in kinds_here().items():
        print(f"{kind}: {env}")
