"""Root conftest: the doctests of dipen's modules see ``dipen`` without importing it."""

import pytest

import dipen


@pytest.fixture(autouse=True)
def _add_dipen(doctest_namespace):
    doctest_namespace["dipen"] = dipen
