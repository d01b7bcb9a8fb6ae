"""Schemathesis over every operation of the OpenAPI spec, on a world with data in it.

Whatever the generated request, no answer is a 5xx and every answer matches what the
spec documents. Operations are discovered from the spec and grouped by their first path
segment; every group the README names must be there, and no operation is left out, so
a route added later is fuzzed too. Few examples per operation keep it bounded (about
a minute on the shared machine).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance
from world import World, using

from fundtrail.server.app import create_app

GROUPS = {
    "taxii2", "screen", "complaints", "campaigns", "trace", "lookup", "webhooks",
    "indicators", "alerts", "chains", "addresses", "txs", "me", "orgs", "requests",
}  # fmt: skip
EXAMPLES = 6
TAXII = "application/taxii+json;version=2.1"


def _import_schemathesis_now() -> None:
    """Import all of schemathesis while the test is collected, not lazily mid-session.

    pytest rewrites schemathesis's modules (it is a pytest plugin) with ``ast.parse`` as
    they are imported; on CPython 3.11.7, once earlier tests have run (hypothesis moves
    the recursion limit), that fails with "AST constructor recursion depth mismatch".
    """
    import contextlib
    import importlib
    import pkgutil

    for mod in pkgutil.walk_packages(schemathesis.__path__, "schemathesis."):
        with contextlib.suppress(ImportError):  # optional extras (GraphQL) not installed
            importlib.import_module(mod.name)


_import_schemathesis_now()


def group_of(path: str) -> str:
    parts = [p for p in path.split("/") if p]
    return parts[0] if parts[0] == "taxii2" else parts[2]


@pytest.fixture(scope="module")
def fuzzed(built_world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    world = built_world.copy(tmp_path_factory.mktemp("fuzz") / "world")
    with using(world.home):
        app: FastAPI = create_app()
        schema = schemathesis.openapi.from_dict(app.openapi())
        schema.app = app
        yield world, schema


def operations(schema: Any) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for result in schema.get_all_operations():
        op = result.ok()
        out.setdefault(group_of(op.path), []).append(op)
    return out


def test_every_group_the_readme_names_is_in_the_spec(fuzzed: Any) -> None:
    _, schema = fuzzed
    found = set(operations(schema))
    assert found == GROUPS, f"new groups {found - GROUPS} (add them here), gone {GROUPS - found}"


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_no_generated_request_breaks_a_route(fuzzed: Any, group: str) -> None:
    world, schema = fuzzed
    ops = operations(schema)[group]
    headers = {"Authorization": f"Bearer {world.police_key}"}
    if group == "taxii2":
        headers["Accept"] = TAXII
    for op in ops:

        @given(case=op.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        def check(case: schemathesis.Case) -> None:
            # a schema-valid value may still be refused on its merits (an address with a
            # bad checksum, a txid the chain does not hold): a clear 4xx is right there
            case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

        check()
