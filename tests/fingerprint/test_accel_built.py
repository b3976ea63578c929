"""CI installs with a C compiler, so there the accelerator must actually be built.

Without this, a broken build (setup.py's `optional=True`) would pass every test on the
slower pure-Python path and the speed numbers in the docs would silently stop being true.
`make test` sets DG_EXPECT_ACCEL=1; elsewhere the check is skipped.
"""

import os

import pytest

from distillguard.fingerprint.native import accel


@pytest.mark.skipif(os.environ.get("DG_EXPECT_ACCEL") != "1", reason="DG_EXPECT_ACCEL=1 not set")
def test_accelerator_was_built_and_loads() -> None:
    assert accel is not None, "fingerprint/_accel.c was not built: run `pip install -e .` with gcc"
