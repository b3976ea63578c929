"""Build hook for the optional C accelerator of the request fingerprints.

Everything else is declared in pyproject.toml. `optional=True`: when no C compiler or
Python headers are available the install still succeeds and `distillguard.fingerprint`
uses its pure-Python code, which computes the same results (see docs/fingerprint.md).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "distillguard.fingerprint._accel",
            ["src/distillguard/fingerprint/_accel.c"],
            optional=True,
        )
    ]
)
