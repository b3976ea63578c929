"""The optional C accelerator (`_accel.c`, built by setup.py), or None.

It only speeds up the cue scan and the n-gram sums; the pure-Python code computes the same
results bit for bit (tests/fingerprint/test_accel.py, bench/fingerprint_equivalence.py).
None when the extension was not built (no compiler at install time, or running from a
source tree) or when DG_FINGERPRINT_PURE_PYTHON=1 asks for the reference code.
"""

from __future__ import annotations

import os
from types import ModuleType


def _load() -> ModuleType | None:
    if os.environ.get("DG_FINGERPRINT_PURE_PYTHON", "") not in ("", "0"):
        return None
    try:
        from distillguard.fingerprint import _accel
    except ImportError:
        return None
    return _accel


accel = _load()
