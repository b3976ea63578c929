"""The detector side never imports the simulator's vocabularies or ground truth."""

from __future__ import annotations

import ast
from pathlib import Path

import distillguard

FORBIDDEN = (
    "distillguard.sim.text",
    "distillguard.sim.world",
    "distillguard.sim.attacks",
    "distillguard.sim.personas",
    "distillguard.sim.truth",
)
DETECTOR_AREAS = ("detect", "fingerprint", "enforce", "gateway")


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def test_detector_code_does_not_import_simulator_text_or_truth() -> None:
    root = Path(distillguard.__file__).parent
    files = [p for area in DETECTOR_AREAS for p in (root / area).rglob("*.py")]
    assert files
    offenders = {
        str(p.relative_to(root)): sorted(n for n in _imports(p) if n.startswith(FORBIDDEN)) for p in files
    }
    assert {k: v for k, v in offenders.items() if v} == {}
