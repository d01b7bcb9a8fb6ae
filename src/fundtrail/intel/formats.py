"""Which file formats intel comes in and goes out as, and where their code lives.

A format is a reader and/or a writer named as ``"module:function"`` and imported
only when used, so a format whose module is not written yet answers a clear
"not available yet" instead of breaking the others.

    reader(path: Path, *, tlp: TLP | None = None) -> ReadResult
        parse a file (or folder); good rows become records, bad ones problems
        naming file and line; ``tlp`` overrides the marking of every record.
    writer(records: Iterable[IndicatorRecord], out: TextIO) -> int
        write records, return how many were written.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO, cast

from fundtrail.errors import InvalidInputError
from fundtrail.intel.records import IndicatorRecord
from fundtrail.model.tlp import TLP


@dataclass(frozen=True, slots=True)
class RowProblem:
    """One input row that was skipped, and why."""

    source: str  # file name
    line: int | None  # 1-based line (or record number) when known
    message: str

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line is not None else self.source
        return f"{where}: {self.message}"


@dataclass(slots=True)
class ReadResult:
    records: list[IndicatorRecord] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)


Reader = Callable[..., ReadResult]
Writer = Callable[[Iterable[IndicatorRecord], TextIO], int]


@dataclass(frozen=True, slots=True)
class Format:
    name: str
    reader: str | None  # "module:function"
    writer: str | None
    summary: str


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format(
            "csv",
            "fundtrail.intel.csvio:read_csv",
            "fundtrail.intel.csvio:write_csv",
            "CSV: type,value,chain,category,confidence,tlp,description",
        ),
        Format(
            "json",
            "fundtrail.intel.csvio:read_json",
            "fundtrail.intel.csvio:write_json",
            "JSON list of indicator objects (the REST API's fields)",
        ),
        Format(
            "ofac",
            "fundtrail.intel.ofac:read_ofac",
            None,
            "OFAC SDN crypto address lists (sanctioned_addresses_<ASSET>.txt/.json)",
        ),
        Format(
            "stix",
            "fundtrail.intel.stix:read_stix",
            "fundtrail.intel.stix:write_stix",
            "STIX 2.1 bundle",
        ),
        Format(
            "misp",
            "fundtrail.intel.misp:read_misp",
            "fundtrail.intel.misp:write_misp",
            "MISP event / feed JSON",
        ),
        Format(
            "tagpack",
            "fundtrail.intel.tagpack_io:read_tagpack",
            "fundtrail.intel.tagpack_io:write_tagpack",
            "GraphSense TagPack YAML",
        ),
    )
}


def get_format(name: str) -> Format:
    key = name.strip().lower()
    if key not in FORMATS:
        raise InvalidInputError(
            f"unknown format {name!r}; known: {', '.join(FORMATS)}", field="format"
        )
    return FORMATS[key]


def _resolve(target: str, fmt: str) -> Any:
    module, _, func = target.partition(":")
    try:
        return getattr(importlib.import_module(module), func)
    except (ImportError, AttributeError):
        raise InvalidInputError(
            f"format {fmt!r} is not available yet in this build", field="format"
        ) from None


def reader_for(name: str) -> Reader:
    fmt = get_format(name)
    if fmt.reader is None:
        raise InvalidInputError(
            f"format {fmt.name!r} can be exported, not imported", field="format"
        )
    return cast(Reader, _resolve(fmt.reader, fmt.name))


def writer_for(name: str) -> Writer:
    fmt = get_format(name)
    if fmt.writer is None:
        raise InvalidInputError(
            f"format {fmt.name!r} can be imported, not exported", field="format"
        )
    return cast(Writer, _resolve(fmt.writer, fmt.name))


def read_file(path: Path, fmt: str, *, tlp: TLP | None = None) -> ReadResult:
    """Read ``path`` in format ``fmt``; a missing file is a clear error."""
    if not path.exists():
        raise InvalidInputError(f"no such file or folder: {path}", field="file")
    from fundtrail.intel.limits import check_size, time_limit

    reader = reader_for(fmt)
    check_size(path)  # every format: a file over the import limit is refused unread
    with time_limit():  # and one that takes too long to read is refused, nothing stored
        return reader(path, tlp=tlp)
