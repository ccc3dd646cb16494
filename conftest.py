"""Root conftest: doctests see ``dipen`` without importing it; notebooks carry the
``notebook`` marker."""

import pytest

import dipen


@pytest.fixture(autouse=True)
def _add_dipen(doctest_namespace):
    doctest_namespace["dipen"] = dipen


def pytest_collection_modifyitems(items):
    for item in items:
        if str(item.fspath).endswith(".ipynb"):
            item.add_marker(pytest.mark.notebook)
