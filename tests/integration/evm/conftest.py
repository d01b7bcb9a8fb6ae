"""Fixtures for EVM tests: a real anvil node (session-wide) and the recorded-answers stub."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from evm_stub_rpc import StubNode

from fundtrail.chains.evm.devnode import DevNode, DevNodeError, sample_activity

EVM_DATA = Path(__file__).resolve().parents[2] / "data" / "evm"


@pytest.fixture(scope="session")
def anvil() -> Iterator[DevNode]:
    """anvil on 127.0.0.1 (free port), chain id 1; stopped after the session."""
    try:
        node = DevNode().start()
    except DevNodeError as exc:
        pytest.fail(str(exc))
    try:
        yield node
    finally:
        node.close()


@pytest.fixture(scope="session")
def anvil_activity(anvil: DevNode) -> dict[str, Any]:
    """Every kind of movement, sent once per session, then 12 blocks to confirm it."""
    activity = sample_activity(anvil)
    anvil.mine(12)
    return activity


@pytest.fixture
def evm_data() -> Path:
    return EVM_DATA


@pytest.fixture
def stub_node() -> Iterator[Any]:
    """Factory: ``stub_node(*folders)`` serves recorded answers; closed after the test."""
    made: list[StubNode] = []

    def make(*folders: Path) -> StubNode:
        stub = StubNode(*folders)
        made.append(stub)
        return stub

    yield make
    for s in made:
        s.close()
