"""Detector lookup by name."""

from __future__ import annotations

import importlib.util

import pytest

from distillguard.detect.baselines import PhraseMatchDetector, RateThresholdDetector
from distillguard.sim.scoring.registry import DetectorUnavailable, make_detector


def test_baselines_by_name_are_fresh_instances():
    a, b = make_detector("rate"), make_detector("rate")
    assert isinstance(a, RateThresholdDetector) and a is not b
    assert isinstance(make_detector("phrase"), PhraseMatchDetector)


def test_module_factory_name():
    det = make_detector("distillguard.detect.baselines:PhraseMatchDetector")
    assert isinstance(det, PhraseMatchDetector)
    with pytest.raises(DetectorUnavailable, match="cannot import"):
        make_detector("distillguard.nope:Thing")
    with pytest.raises(DetectorUnavailable, match="not a Detector"):
        make_detector("collections:OrderedDict")


def test_unknown_name():
    with pytest.raises(DetectorUnavailable, match="unknown detector"):
        make_detector("magic")


def test_missing_engine_says_so(monkeypatch):
    from distillguard.sim.scoring import registry

    monkeypatch.setattr(registry, "ENGINE_MODULE", "distillguard.detect.no_such_engine")
    with pytest.raises(DetectorUnavailable, match="not in this checkout"):
        make_detector("distillguard")


def test_engine_by_name_when_present():
    if importlib.util.find_spec("distillguard.detect.engine") is None:
        pytest.skip("engine not in this checkout")
    detector = make_detector("distillguard")
    assert detector.name == "distillguard"
    assert make_detector("distillguard") is not detector
