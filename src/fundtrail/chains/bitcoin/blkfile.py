"""Block sources on disk: ``blk*.dat`` record files, single raw or hex blocks, compressed copies.

A ``blk*.dat`` file is a run of records ``magic + uint32 length + block``; the magic is
the network's (mainnet f9beb4d9, see :mod:`~fundtrail.chains.bitcoin.network`), and a
file of another network is refused by name.
Bitcoin Core pre-allocates these files, so zero padding (or unknown bytes with no
further record) after the last record is normal and skipped. Anything else wrong
(bad magic at a record boundary, a length that runs past the end) is a
:class:`~fundtrail.errors.SourceError` naming the file and offset.
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import os
import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from fundtrail.chains.bitcoin.network import BY_MAGIC, MAINNET
from fundtrail.errors import SourceError

MAX_RECORD = 64 * 1024 * 1024  # far above any block; catches garbage lengths early
_HEX = re.compile(rb"^[0-9a-fA-F\s]+$")
_NONZERO = re.compile(rb"[^\x00]")


@dataclass(frozen=True, slots=True)
class RawBlock:
    """A block's bytes and where they came from (for error messages)."""

    data: bytes
    source: str  # file name
    offset: int | None  # offset of the block's first byte in the (decompressed) file

    @property
    def where(self) -> str:
        return self.source if self.offset is None else f"{self.source} offset {self.offset}"


@dataclass(slots=True)
class ReadStats:
    files: int = 0
    bytes: int = 0
    skipped_tail: int = 0  # padding / unknown bytes after the last record
    disk_done: int = 0  # on-disk size of the files finished (for progress bars)
    disk_current: int = 0
    len_current: int = 1

    def progress(self, rb: RawBlock) -> int:
        """On-disk bytes read so far, counting the current file pro rata (it may be bz2)."""
        pos = (rb.offset or 0) + len(rb.data)
        return self.disk_done + self.disk_current * pos // max(self.len_current, 1)


def expand_paths(paths: list[Path]) -> list[Path]:
    """Files to read: directories give their ``blk*.dat`` files in order."""
    out: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            found = sorted(p.glob("blk*.dat"))
            if not found:
                raise SourceError(f"{p}: directory holds no blk*.dat files")
            out.extend(found)
        elif p.is_file():
            out.append(p)
        else:
            raise SourceError(f"{p}: no such file or directory")
    return out


MAINNET_MAGIC = MAINNET.magic


def load_bytes(path: Path) -> bytes:
    """The file's content, decompressed when it is bz2 or gzip, decoded when it is hex text.

    A blk file is read once: its pages are dropped from the OS cache after the read
    (``POSIX_FADV_DONTNEED``), so that a node's blocks directory, hundreds of GB, does
    not push the store's id maps out of the cache while it is ingested."""
    try:
        with path.open("rb") as f:
            data = f.read()
            with contextlib.suppress(OSError, AttributeError):  # a pipe; not Linux
                os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
        if data[:3] == b"BZh":
            data = bz2.decompress(data)
        elif data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
    except (OSError, ValueError, EOFError) as exc:
        raise SourceError(f"{path}: cannot read: {exc}") from exc
    if data and data[:4] not in BY_MAGIC and _HEX.match(data[:4096]):
        return decode_hex(data, str(path))
    return data


def decode_hex(text: bytes | str, where: str) -> bytes:
    s = text.decode("ascii", "replace") if isinstance(text, bytes) else text
    s = "".join(s.split())
    if s[:2].lower() == "0x":
        s = s[2:]
    try:
        return bytes.fromhex(s)
    except ValueError as exc:
        raise SourceError(f"{where}: not valid hex: {exc}") from None


def _other_network(magic: bytes, expected: bytes, source: str, pos: int) -> SourceError | None:
    other = BY_MAGIC.get(magic)
    if other is None or magic == expected:
        return None
    want = next(n.name for n in BY_MAGIC.values() if n.magic == expected)
    return SourceError(
        f"{source} offset {pos}: a {other.name} block file (magic {magic.hex()}), not "
        f"{want}: give --network {other.name}, in a workspace of its own"
    )


def iter_blocks(
    data: bytes, source: str, stats: ReadStats | None = None, magic: bytes = MAINNET_MAGIC
) -> Iterator[RawBlock]:
    """Blocks in ``data``: magic+length records, or the whole buffer as one raw block."""
    if data[:4] != magic:
        wrong = _other_network(data[:4], magic, source, 0)
        if wrong is not None:
            raise wrong
        if not data.strip(b"\0"):
            raise SourceError(f"{source}: file holds no blocks (empty or all zero bytes)")
        if len(data) >= 81 and data[80] != 0:  # header then a non-zero tx count: one raw block
            yield RawBlock(data, source, 0)
            return
        raise SourceError(
            f"{source} offset 0: bad magic {data[:4].hex()} (expected {magic.hex()}) "
            "and not a raw block"
        )
    yield from iter_records(data, source, stats, magic)


def iter_records(
    data: bytes, source: str, stats: ReadStats | None = None, expected: bytes = MAINNET_MAGIC
) -> Iterator[RawBlock]:
    pos, end = 0, len(data)
    while pos < end:
        magic = data[pos : pos + 4]
        if magic != expected and data[pos] == 0:  # zero padding: skip it
            found = _NONZERO.search(data, pos)
            nxt = found.start() if found else end
            if stats is not None:
                stats.skipped_tail += nxt - pos
            pos = nxt
            continue
        if magic != expected:
            wrong = _other_network(magic, expected, source, pos) if pos == 0 else None
            if wrong is not None:  # later in a file, another magic is damage, not a network
                raise wrong
            rest = data.find(expected, pos)
            if rest == -1:  # padding or unknown bytes after the last record: normal
                if stats is not None:
                    stats.skipped_tail += end - pos
                return
            raise SourceError(
                f"{source} offset {pos}: bad magic {magic.hex()} (expected "
                f"{expected.hex()}); {rest - pos} unknown bytes before the next record"
            )
        if pos + 8 > end:
            raise SourceError(f"{source} offset {pos}: truncated record header")
        (length,) = struct.unpack_from("<I", data, pos + 4)
        if length < 81 or length > MAX_RECORD:
            raise SourceError(f"{source} offset {pos}: implausible block length {length}")
        if pos + 8 + length > end:
            raise SourceError(
                f"{source} offset {pos}: record length {length} runs past the end of the file "
                f"({end - pos - 8} bytes left; truncated file?)"
            )
        yield RawBlock(data[pos + 8 : pos + 8 + length], source, pos + 8)
        pos += 8 + length


def read_paths(
    paths: list[Path], stats: ReadStats | None = None, magic: bytes = MAINNET_MAGIC
) -> Iterator[RawBlock]:
    """Every block in every file, in file order (records with the network's ``magic``)."""
    for path in expand_paths(paths):
        data = load_bytes(path)
        if stats is not None:
            stats.files += 1
            stats.bytes += len(data)
            stats.disk_current, stats.len_current = path.stat().st_size, len(data)
        yield from iter_blocks(data, path.name, stats, magic)
        if stats is not None:
            stats.disk_done += stats.disk_current
