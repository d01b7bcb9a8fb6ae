"""Transaction ids parsed per chain, so that every door stores and looks up the same key.

A transaction id is 32 bytes written as 64 hex digits everywhere, but chains differ in
how it is written: EVM hashes carry ``0x``, Bitcoin and TRON ids do not. The stored key
is lowercase, with ``0x`` on EVM chains and without it elsewhere; either spelling is
accepted on input.
"""

from __future__ import annotations

import re

from fundtrail.errors import InvalidInputError
from fundtrail.model.chains import get_chain

_HEX64 = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")


def parse_txid(text: str, chain: str, *, field: str = "tx") -> str:
    """The stored key of transaction id ``text`` on ``chain``; raises InvalidInputError."""
    c = get_chain(chain)
    s = text.strip() if isinstance(text, str) else ""
    if not _HEX64.match(s):
        what = (
            "an EVM transaction hash (0x followed by 64 hex digits)"
            if c.family == "evm"
            else f"a {c.name} transaction id (64 hex digits)"
        )
        raise InvalidInputError(f"{text!r} is not {what}", field=field)
    bare = s.lower().removeprefix("0x")
    return "0x" + bare if c.family == "evm" else bare


def looks_like_txid(text: str) -> bool:
    """Whether ``text`` has the shape of a transaction id on some chain (search boxes)."""
    return isinstance(text, str) and bool(_HEX64.match(text.strip()))
