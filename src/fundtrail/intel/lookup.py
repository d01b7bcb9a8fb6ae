"""Private lookups: check an address against the alliance's intel without revealing it.

k-anonymity range query: the caller hashes the normalised value (SHA-256 of a
lowercased EVM address, a Bitcoin address as written...), sends only the first 5 hex
digits (1 in ~1 million buckets) and gets back every full hash in that bucket it may
see, with categories; the match happens on the caller's side.

Bloom filter: the same visible set as one downloadable bit array for offline
screening. Binary format (all integers little-endian)::

    magic   8 bytes  b"FTBLOOM1"
    hlen    4 bytes  uint32, length of the header
    header  hlen     UTF-8 JSON: {"format": "fundtrail-bloom", "version": 1, "m": bits,
                     "k": hashes, "n": items, "fp_rate": expected false-positive rate,
                     "target_fp_rate": asked rate, "hash": <how to index, below>, ...}
    bits    ceil(m/8) bytes; bit i is byte i // 8, bit (i % 8) counted from the LSB

Indexing: d = SHA-256(normalised value); h1 = d[0:8], h2 = d[8:16] as unsigned 64-bit
little-endian integers; for j in 0..k-1 the bit ((h1 + j*h2) mod 2**64) mod m is set.
A value is "maybe present" when all k bits are set; "absent" is certain.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import sqlalchemy as sa

from fundtrail.errors import InvalidInputError
from fundtrail.intelstore import audit
from fundtrail.intelstore.db import IntelStore
from fundtrail.intelstore.models import Indicator
from fundtrail.intelstore.visibility import visible_to
from fundtrail.model.identity import Identity
from fundtrail.model.indicators import normalize_indicator
from fundtrail.model.tlp import AUDITED_READS

__all__ = ["BloomFilter", "LookupService", "lookup_hash", "parse_prefix"]

PREFIX_LEN = 5
MAGIC = b"FTBLOOM1"
_HEX_PREFIX = re.compile(r"^[0-9a-f]{5}$")
_AUDITED = tuple(sorted(t.value for t in AUDITED_READS))  # the one list, in model/tlp.py
_MASK64 = (1 << 64) - 1


def lookup_hash(kind: str, value: str, chain: str | None = None) -> str:
    """SHA-256 hex of the normalised value: what a client computes before asking."""
    return hashlib.sha256(normalize_indicator(kind, value, chain).encode()).hexdigest()


def parse_prefix(prefix: str) -> str:
    """Exactly five hex digits; a longer prefix would narrow the bucket and leak."""
    p = prefix.strip().lower()
    if not _HEX_PREFIX.match(p):
        raise InvalidInputError(
            f"prefix must be exactly {PREFIX_LEN} hex digits of the SHA-256 of the normalised "
            "value (e.g. 'a3f9c')",
            field="prefix",
        )
    return p


def _upper_bound(prefix: str) -> str:
    """The smallest string above every hash starting with ``prefix`` (index range scan)."""
    return format(int(prefix, 16) + 1, "05x") if prefix != "fffff" else "g"


@dataclass(slots=True)
class BloomFilter:
    """A Bloom filter over SHA-256 digests; see the module docstring for the format."""

    m: int
    k: int
    n: int
    bits: np.ndarray  # uint8, packed little-endian bit order
    target_fp_rate: float

    @staticmethod
    def size_for(n: int, fp_rate: float) -> tuple[int, int]:
        """(m bits, k hashes) for ``n`` items at ``fp_rate`` (the textbook optimum)."""
        n = max(n, 1)
        m = max(64, math.ceil(-n * math.log(fp_rate) / math.log(2) ** 2))
        k = max(1, round(m / n * math.log(2)))
        return m, k

    @classmethod
    def build(cls, digests_hex: Iterable[str], fp_rate: float = 0.001) -> BloomFilter:
        if not 1e-9 <= fp_rate < 0.5:
            raise InvalidInputError("fp_rate must be between 1e-9 and 0.5", field="fp_rate")
        raw = b"".join(bytes.fromhex(d) for d in sorted(set(digests_hex)))
        digests = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 32)
        n = len(digests)
        m, k = cls.size_for(n, fp_rate)
        flags = np.zeros(m, dtype=bool)
        if n:
            flags[_positions(digests, m, k).ravel()] = True
        return cls(m, k, n, np.packbits(flags, bitorder="little"), fp_rate)

    @property
    def fp_rate(self) -> float:
        """Expected false-positive rate at this fill: (1 - e^(-kn/m))^k."""
        return float((1.0 - math.exp(-self.k * self.n / self.m)) ** self.k) if self.n else 0.0

    def __contains__(self, digest_hex: str) -> bool:
        d = np.frombuffer(bytes.fromhex(digest_hex), dtype=np.uint8).reshape(1, 32)
        pos = _positions(d, self.m, self.k)[0]
        return bool(np.all((self.bits[pos >> 3] >> (pos & 7).astype(np.uint8)) & 1))

    def header(self) -> dict[str, Any]:
        return {
            "format": "fundtrail-bloom",
            "version": 1,
            "m": self.m,
            "k": self.k,
            "n": self.n,
            "fp_rate": self.fp_rate,
            "target_fp_rate": self.target_fp_rate,
            "hash": "d=sha256(normalised value); h1=le_u64(d[0:8]); h2=le_u64(d[8:16]); "
            "bit_j=((h1+j*h2) mod 2^64) mod m",
            "bit_order": "little",
        }

    def to_bytes(self) -> bytes:
        head = json.dumps(self.header(), sort_keys=True).encode()
        return MAGIC + struct.pack("<I", len(head)) + head + self.bits.tobytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> BloomFilter:
        if data[:8] != MAGIC or len(data) < 12:
            raise InvalidInputError("not a fundtrail Bloom filter (bad magic)", field="file")
        (hlen,) = struct.unpack("<I", data[8:12])
        try:
            head = json.loads(data[12 : 12 + hlen])
            m, k, n = int(head["m"]), int(head["k"]), int(head["n"])
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidInputError("Bloom filter header is not valid", field="file") from exc
        bits = np.frombuffer(data[12 + hlen :], dtype=np.uint8)
        if len(bits) != (m + 7) // 8:
            raise InvalidInputError(
                f"Bloom filter has {len(bits)} bytes of bits, expected {(m + 7) // 8}", field="file"
            )
        return cls(m, k, n, bits, float(head.get("target_fp_rate", 0.0)))


def _positions(digests: np.ndarray, m: int, k: int) -> np.ndarray:
    """Bit positions, shape (len(digests), k), by double hashing in uint64 arithmetic."""
    h1 = digests[:, 0:8].copy().view("<u8").ravel()
    h2 = digests[:, 8:16].copy().view("<u8").ravel()
    j = np.arange(k, dtype=np.uint64)
    with np.errstate(over="ignore"):
        combined = h1[:, None] + j[None, :] * h2[:, None]  # wraps mod 2**64, as specified
    return (combined % np.uint64(m)).astype(np.int64)


class LookupService:
    """Prefix and Bloom lookups over what the caller's org may see (one visibility rule)."""

    def __init__(self, store: IntelStore) -> None:
        self.store = store

    def by_prefix(self, who: Identity, prefix: str, remote: str | None = None) -> dict[str, Any]:
        p = parse_prefix(prefix)
        # visibility wrapped so the planner takes the value_sha256 range (one bucket,
        # ~1e-6 of the rows) instead of walking every visible row by its org/tlp indexes
        stmt = (
            sa.select(Indicator.value_sha256, Indicator.category, Indicator.tlp)
            .where(sa.func.coalesce(visible_to(who.org_id), sa.false()) == sa.true())
            .where(Indicator.value_sha256 >= p, Indicator.value_sha256 < _upper_bound(p))
        )
        found: dict[str, set[str]] = {}
        audited = 0
        with self.store.read_session() as s:
            for digest, category, tlp in s.execute(stmt):
                found.setdefault(digest, set()).add(category)
                audited += tlp in _AUDITED
        if audited:
            self._audit(who, "lookup.prefix", {"prefix": p, "restricted": audited}, remote)
        matches = [{"hash": h, "categories": sorted(c)} for h, c in sorted(found.items())]
        return {"prefix": p, "count": len(matches), "matches": matches}

    def bloom(
        self, who: Identity, fp_rate: float = 0.001, remote: str | None = None
    ) -> BloomFilter:
        stmt = sa.select(Indicator.value_sha256, Indicator.tlp).where(visible_to(who.org_id))
        with self.store.read_session() as s:
            rows = s.execute(stmt).all()
        restricted = sum(1 for _, tlp in rows if tlp in _AUDITED)
        bloom = BloomFilter.build((d for d, _ in rows), fp_rate)
        if restricted:
            self._audit(who, "lookup.bloom", {"items": bloom.n, "restricted": restricted}, remote)
        return bloom

    def _audit(
        self, who: Identity, action: str, details: dict[str, Any], remote: str | None
    ) -> None:
        with self.store.session() as s:
            audit.record(s, who, action, "indicator", None, details, remote)
