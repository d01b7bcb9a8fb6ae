"""The 64-bit key of an address in the screening index.

``sha256("CHAIN:normalised address")`` truncated to 8 bytes: uniform, so a sorted array
of keys answers by binary search, and a billion keys fit in 8 GB on disk.
"""

from __future__ import annotations

import hashlib

import numpy as np

from fundtrail.model.addresses import parse_address


def address_key(chain: str, normalised: str) -> int:
    digest = hashlib.sha256(f"{chain.upper()}:{normalised}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def keys_of(chain: str, normalised: list[str]) -> np.ndarray:
    """Keys of many normalised addresses, as a uint64 array."""
    prefix = f"{chain.upper()}:"
    out = np.empty(len(normalised), dtype=np.uint64)
    for i, a in enumerate(normalised):
        out[i] = int.from_bytes(hashlib.sha256((prefix + a).encode()).digest()[:8], "big")
    return out


def normalise(chain: str, address: str) -> str:
    """Validate (checksums) and normalise; raises InvalidInputError naming the problem."""
    return parse_address(address, chain).value
