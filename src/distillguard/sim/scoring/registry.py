"""Detectors DistillBench can score, by name.

`rate` and `phrase` are the baselines; `distillguard` is the real engine, imported only
when asked for so the scorer works (and says clearly what is missing) before it exists.
Any other `package.module:factory` name is imported and called with no arguments.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from distillguard.detect.api import Detector

ENGINE_MODULE = "distillguard.detect.engine"
# Factory names tried in the engine module, in order (a class or a function, no arguments).
ENGINE_FACTORIES = (
    "build_detector",
    "make_detector",
    "create_detector",
    "DistillGuardDetector",
    "Engine",
    "DetectionEngine",
)


class DetectorUnavailable(LookupError):
    """The detector name is unknown or its module is not in this checkout."""


def _rate() -> Detector:
    from distillguard.detect.baselines import RateThresholdDetector

    return RateThresholdDetector()


def _phrase() -> Detector:
    from distillguard.detect.baselines import PhraseMatchDetector

    return PhraseMatchDetector()


def _engine() -> Detector:
    try:
        module = importlib.import_module(ENGINE_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name in {ENGINE_MODULE, "distillguard.detect"}:
            raise DetectorUnavailable(
                f"the distillguard engine ({ENGINE_MODULE}) is not in this checkout yet; "
                f"baselines available: {', '.join(sorted(BASELINES))}"
            ) from exc
        raise
    for attr in ENGINE_FACTORIES:
        factory = getattr(module, attr, None)
        if callable(factory):
            detector = factory()
            _check(detector, "distillguard")
            return detector
    raise DetectorUnavailable(
        f"{ENGINE_MODULE} defines none of {', '.join(ENGINE_FACTORIES)}; cannot build the engine"
    )


def _check(detector: object, name: str) -> None:
    missing = [
        m for m in ("observe_account", "observe", "assess") if not callable(getattr(detector, m, None))
    ]
    if missing:
        raise DetectorUnavailable(f"{name} is not a Detector: it lacks {', '.join(missing)}")


BASELINES: dict[str, Callable[[], Detector]] = {"rate": _rate, "phrase": _phrase}
DETECTORS: dict[str, Callable[[], Detector]] = {**BASELINES, "distillguard": _engine}


def make_detector(name: str) -> Detector:
    """A fresh detector for one replay (detectors keep state, so never reuse one)."""
    factory = DETECTORS.get(name)
    if factory is not None:
        return factory()
    if ":" in name:
        module_name, _, attr = name.partition(":")
        try:
            made = getattr(importlib.import_module(module_name), attr)()
        except (ModuleNotFoundError, AttributeError) as exc:
            raise DetectorUnavailable(f"cannot import detector {name!r}: {exc}") from exc
        _check(made, name)
        detector: Detector = made
        return detector
    raise DetectorUnavailable(
        f"unknown detector {name!r}; known: {', '.join(DETECTORS)} (or package.module:factory)"
    )
