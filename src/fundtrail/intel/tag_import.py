"""``fundtrail tags import``: route a file or folder to its reader and fill the tag store.

Each source file becomes one replaceable unit of the tag store, so importing a newer copy
of a pack replaces its tags. Invalid rows never stop an import: they are counted and
reported with file and line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from fundtrail.chainstore.tags import Tag, TagStore, tags_table
from fundtrail.errors import InvalidInputError
from fundtrail.intel.tagpack import Problem, load_scheme, read_tagpack, tagpack_files
from fundtrail.intel.tags_csv import (
    etherscan_files,
    ofac_files,
    read_csv,
    read_etherscan,
    read_ofac,
)

FORMATS = ("tagpack", "csv", "ofac", "etherscan")


@dataclass
class ImportReport:
    format: str
    files: int = 0
    read: int = 0  # valid tags read (before folding duplicates within a source)
    imported: int = 0  # tags stored
    invalid: int = 0
    problems: list[Problem] = field(default_factory=list)
    per_file: dict[str, int] = field(default_factory=dict)

    def to_dict(self, max_problems: int = 50) -> dict[str, object]:
        return {
            "format": self.format,
            "files": self.files,
            "read": self.read,
            "imported": self.imported,
            "invalid": self.invalid,
            "problems": [str(p) for p in self.problems[:max_problems]],
        }


def detect_format(path: Path) -> str:
    """Guess the format from the name: *.yaml TagPacks, *.csv, OFAC lists, Etherscan JSON."""
    if path.is_dir():
        if any(path.glob("sanctioned_addresses_*")):
            return "ofac"
        if any(path.rglob("combinedAllLabels.json")):
            return "etherscan"
        return "tagpack"
    if path.name.startswith("sanctioned_addresses_"):
        return "ofac"
    if path.name == "combinedAllLabels.json":
        return "etherscan"
    if path.suffix in (".yaml", ".yml"):
        return "tagpack"
    if path.suffix == ".csv":
        return "csv"
    raise InvalidInputError(
        f"cannot tell the format of {path}; pass --format ({', '.join(FORMATS)})", field="format"
    )


def import_tags(
    path: Path,
    fmt: str | None = None,
    *,
    home: Path | None = None,
    chain: str | None = None,
    on_file: Callable[[int, int, str], None] | None = None,
) -> ImportReport:
    """Import every tag of ``path`` (file or folder) into the workspace's tag store;
    ``on_file(done, total, name)`` hears each file finished (the CLI's progress bar)."""
    path = Path(path)
    if not path.exists():
        raise InvalidInputError(f"{path} does not exist", field="path")
    fmt = fmt or detect_format(path)
    if fmt not in FORMATS:
        raise InvalidInputError(
            f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}", field="format"
        )
    from fundtrail.intel.limits import Deadline, check_size

    check_size(path)
    store = TagStore(home)
    report = ImportReport(fmt)
    plan = list(_plan(path, fmt, chain))
    deadline = Deadline()
    for done, (file, reader) in enumerate(plan, 1):
        deadline.check()
        before = len(report.problems)
        table = tags_table(reader(report.problems))
        report.read += table.num_rows
        count = store.replace(f"{fmt}:{file.resolve()}", table)
        report.files += 1
        report.imported += count
        if on_file is not None:
            on_file(done, len(plan), file.name)
        report.per_file[str(file)] = count
        report.invalid += len(report.problems) - before
    _audit(path, report, home)
    return report


def _audit(path: Path, report: ImportReport, home: Path | None) -> None:
    """Tags decide who a cluster is (and so every freeze request): their import is a write."""
    from fundtrail.intelstore import audit
    from fundtrail.intelstore.db import open_store
    from fundtrail.settings import Settings, get_settings

    store = open_store((Settings(home=home) if home else get_settings()).intel_url)
    try:
        with store.session() as s:
            audit.record(
                s,
                "cli",
                "tags.import",
                "tags",
                str(path.resolve()),
                {"format": report.format, "files": report.files, "imported": report.imported,
                 "invalid": report.invalid},
            )  # fmt: skip
    finally:
        store.close()


Reader = Callable[[list[Problem]], Iterator[Tag]]


def _plan(path: Path, fmt: str, chain: str | None) -> Iterator[tuple[Path, Reader]]:
    if fmt == "tagpack":
        root = path if path.is_dir() else path.parent
        scheme = load_scheme(root)
        for f in tagpack_files(path):
            yield f, lambda probs, f=f: read_tagpack(f, probs, scheme)  # type: ignore[misc]
    elif fmt == "csv":
        files = [path] if path.is_file() else sorted(path.rglob("*.csv"))
        for f in files:
            yield f, lambda probs, f=f: read_csv(f, probs, chain)  # type: ignore[misc]
    elif fmt == "ofac":
        for f in ofac_files(path):
            yield f, lambda probs, f=f: read_ofac(f, probs)  # type: ignore[misc]
    else:
        for f in etherscan_files(path):
            yield f, lambda probs, f=f: read_etherscan(f, probs)  # type: ignore[misc]
