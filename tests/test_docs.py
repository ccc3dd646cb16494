"""Every public name has a numpydoc docstring with an ``Examples`` section that runs as a doctest.

Public means: everything in ``dipen.__all__``, the public methods of the classes people call
most (``Net``, ``Runner``, ``EtcdStore``, ``MemoryStore``, ``LiveView``), and the public names of
``dipen.analysis`` and ``dipen.pnml``. The examples themselves run under
``pytest --doctest-modules``; this test checks that they are there.
"""

from __future__ import annotations

import inspect
import re

import pytest

import dipen
import dipen.analysis
import dipen.pnml

EXAMPLES = re.compile(r"^Examples\n-{8,}\n", re.MULTILINE)

CLASSES_WITH_METHODS = ["Net", "Runner", "EtcdStore", "MemoryStore", "LiveView"]


def _public_names(module) -> list[str]:
    names = getattr(module, "__all__", None)
    if names is None:
        names = [name for name, value in vars(module).items()
                 if not name.startswith("_") and not inspect.ismodule(value)
                 and getattr(value, "__module__", "").startswith(module.__name__)]
    return sorted(names)


def _documented_objects() -> dict[str, object]:
    objects: dict[str, object] = {}
    for name in dipen.__all__:
        if name == "__version__":
            continue
        objects[f"dipen.{name}"] = getattr(dipen, name)
    for module in (dipen.analysis, dipen.pnml):
        objects[module.__name__] = module
        for name in _public_names(module):
            value = getattr(module, name)
            if inspect.isclass(value) or inspect.isfunction(value):
                objects[f"{module.__name__}.{name}"] = value
    for class_name in CLASSES_WITH_METHODS:
        cls = getattr(dipen, class_name)
        for name, value in vars(cls).items():
            if name.startswith("_"):
                continue
            if isinstance(value, (staticmethod, classmethod)):
                value = value.__func__
            if inspect.isfunction(value):
                objects[f"dipen.{class_name}.{name}"] = value
    return objects


OBJECTS = _documented_objects()


def _missing_examples(obj: object) -> str | None:
    doc = inspect.getdoc(obj) or ""
    if not doc.strip():
        return "no docstring"
    match = EXAMPLES.search(doc)
    if match is None:
        return "no Examples section"
    if ">>> " not in doc[match.end():]:
        return "an Examples section without a >>> line"
    return None


def test_the_walk_finds_what_it_should():
    assert "dipen.Net.place" in OBJECTS and "dipen.Runner.run" in OBJECTS
    assert "dipen.MemoryStore" in OBJECTS and "dipen.LiveView" in OBJECTS
    assert any(name.startswith("dipen.analysis.") for name in OBJECTS)
    assert any(name.startswith("dipen.pnml.") for name in OBJECTS)
    assert len(OBJECTS) > 100


@pytest.mark.parametrize("name", sorted(OBJECTS))
def test_public_object_has_a_numpydoc_example(name):
    problem = _missing_examples(OBJECTS[name])
    assert problem is None, f"{name}: {problem}"
