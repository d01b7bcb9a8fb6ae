"""The 64-bit key of an address in the screening index.

``sha256("CHAIN:normalised address")`` truncated to 8 bytes: uniform, so a sorted array
of keys answers by binary search, and a billion keys fit in 8 GB on disk.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np

from fundtrail.chains.pseudo import describe
from fundtrail.errors import InvalidInputError
from fundtrail.model.addresses import parse_address
from fundtrail.model.chains import EVM_CHAINS
from fundtrail.model.encoding import keccak256


def address_key(chain: str, normalised: str) -> int:
    digest = hashlib.sha256(f"{chain.upper()}:{normalised}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def keys_of(chain: str, normalised: list[str]) -> np.ndarray:
    """Keys of many normalised addresses, as a uint64 array."""
    prefix = f"{chain.upper()}:".encode()
    sha = hashlib.sha256
    digests = b"".join([sha(prefix + a.encode()).digest()[:8] for a in normalised])
    return np.frombuffer(digests, dtype=">u8").astype(np.uint64)


_HEX40 = re.compile(r"0x[0-9a-fA-F]{40}")
# per hex digit: upper-case letter -> 8, anything else -> 0; any letter -> 8, digit -> 0
_UPPER = str.maketrans("0123456789abcdefABCDEF", "0000000000000000888888")
_LETTER = str.maketrans("0123456789abcdefABCDEF", "0000000000888888888888")
_NIBBLE_HIGH_BITS = int("8" * 40, 16)


def _evm_fast(address: str) -> str | None:
    """The normalised form of a well-formed EVM address whose EIP-55 checksum (if it has
    one) is right; None for anything else, which ``parse_address`` then explains.

    Same rule as ``eip55`` with C-level string work: a letter is upper-case exactly where
    the keccak nibble at its position is >= 8.
    """
    if not _HEX40.fullmatch(address):
        return None
    body = address[2:]
    lower = body.lower()
    if body == lower or body == body.upper():
        return "0x" + lower
    digest = int.from_bytes(keccak256(lower.encode("ascii"))[:20], "big")
    letters = int(body.translate(_LETTER), 16)
    if int(body.translate(_UPPER), 16) == letters & digest & _NIBBLE_HIGH_BITS:
        return "0x" + lower
    return None


def normalise(chain: str, address: str) -> str:
    """Validate (checksums) and normalise; raises InvalidInputError naming the problem."""
    if chain in EVM_CHAINS:
        fast = _evm_fast(address)
        if fast is not None:
            return fast
    try:
        return parse_address(address, chain).value
    except InvalidInputError:
        ledger = describe(address)  # only on the error path: the hot path stays as it is
        if ledger is None:
            raise
        raise InvalidInputError(
            f"{address} is a protocol ledger ({ledger.label}), not an account: no one holds "
            "it, so there is no one to screen",
            field="address",
        ) from None
