"""Shared fixtures. All data here is made up."""

from __future__ import annotations

import pytest

from clinic.demo.services import demo_load


@pytest.fixture
def demo_data(db):
    """The made-up demonstration data (six sites, fictional staff, example stories)."""
    return demo_load()
