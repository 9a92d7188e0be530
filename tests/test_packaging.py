"""Packaging metadata that an install would otherwise warn about."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def test_the_licence_is_an_spdx_expression_that_setuptools_reads_without_a_warning():
    data = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    assert data["project"]["license"] == "Apache-2.0"  # a table form is deprecated
    # setuptools reads the SPDX string form from version 77 on.
    requires = data["build-system"]["requires"]
    minimum = next(r for r in requires if r.startswith("setuptools"))
    major = int(re.search(r">=\s*(\d+)", minimum).group(1))
    assert major >= 77
    assert not any("License ::" in c for c in data["project"].get("classifiers", []))
