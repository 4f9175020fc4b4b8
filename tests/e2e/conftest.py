"""Fixtures of the end-to-end tests."""

from __future__ import annotations

import pytest

from tests.e2e.installed import Installed, install_wheel


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """The wheel of this checkout installed in a fresh virtualenv, once per run (installing
    every dependency takes most of a minute)."""
    return install_wheel(tmp_path_factory.mktemp("installed"))
