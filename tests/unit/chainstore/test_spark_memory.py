"""The Spark driver's heap follows the memory budget (chainstore.spark.driver_memory)."""

from __future__ import annotations

import pytest

from fundtrail.chainstore.spark import driver_memory
from fundtrail.settings import reset_settings


@pytest.mark.parametrize(
    ("budget_mb", "heap"), [("8192", "6144m"), ("2048", "1536m"), ("256", "1024m")]
)
def test_driver_heap_is_three_quarters_of_the_budget_and_never_below_spark_default(
    monkeypatch: pytest.MonkeyPatch, budget_mb: str, heap: str
) -> None:
    monkeypatch.setenv("FUNDTRAIL_MEMORY_MB", budget_mb)
    reset_settings()
    try:
        assert driver_memory() == heap
    finally:
        monkeypatch.delenv("FUNDTRAIL_MEMORY_MB")
        reset_settings()
