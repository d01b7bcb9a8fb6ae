"""The format registry: our formats resolve; a format whose module is absent says so."""

from __future__ import annotations

import pytest

from fundtrail.errors import InvalidInputError
from fundtrail.intel import formats
from fundtrail.intel.formats import FORMATS, Format, get_format, reader_for, writer_for


def test_core_formats_resolve() -> None:
    assert callable(reader_for("csv")) and callable(writer_for("json"))
    assert callable(reader_for("ofac"))
    assert {"csv", "json", "ofac", "stix", "misp", "tagpack"} <= set(FORMATS)


def test_unknown_missing_and_one_way_formats_are_clear(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(InvalidInputError, match="unknown format 'xls'"):
        get_format("xls")
    with pytest.raises(InvalidInputError, match="can be imported, not exported"):
        writer_for("ofac")
    monkeypatch.setitem(
        formats.FORMATS, "later", Format("later", "fundtrail.intel.not_written_yet:read", None, "x")
    )
    with pytest.raises(InvalidInputError, match="not available yet"):
        reader_for("later")
