"""One small world for the guarantee tests (see world.py), built once per session."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from world import World, build


@pytest.fixture(scope="session")
def built_world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return build(tmp_path_factory.mktemp("guarantees") / "world")


@pytest.fixture
def world(built_world: World, tmp_path: Path) -> World:
    """A private copy: a test may write into it."""
    return built_world.copy(tmp_path / "world")
