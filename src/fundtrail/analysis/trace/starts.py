"""Where a trace starts: start texts parsed and checked once, then found in a chain's graph.

A start is a transaction reference (``TXID`` or ``TXID:N``: output N on UTXO chains,
log index N on account chains; a bare TXID means every output or transfer of the tx) or
an address (every payment it received inside the request's time window). Parsing is
the same for every chain; finding the items is the graph's business, through the small
``Finder`` protocol that the UTXO and account graphs implement. Every start's taint is
the item's value, capped by the request's amount for that start.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from fundtrail.analysis.trace.request import TraceRequest
from fundtrail.chains.pseudo import describe
from fundtrail.errors import InvalidInputError, NotFoundError
from fundtrail.model.addresses import parse_address

HEX64 = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")


@dataclass(frozen=True, slots=True)
class TxStart:
    text: str
    txid: str  # lowercase hex, without 0x
    index: int | None  # output index (UTXO) or log index (account); None = all of the tx


@dataclass(frozen=True, slots=True)
class AddressStart:
    text: str
    address: str  # normalised form, as the chain store keys it


Start = TxStart | AddressStart


def parse_start(text: str, chain: str) -> Start:
    """A start from its text; ``InvalidInputError`` naming what is wrong."""
    head, sep, tail = text.strip().partition(":")
    if HEX64.match(head):
        if not sep:
            return TxStart(text, head.lower().removeprefix("0x"), None)
        if not tail.isdigit():
            raise InvalidInputError(
                f"output or log index {tail!r} of start {text!r} is not a number", field="from"
            )
        return TxStart(text, head.lower().removeprefix("0x"), int(tail))
    if (ledger := describe(text.strip())) is not None:
        raise InvalidInputError(
            f"start {text!r} is a protocol ledger ({ledger.label}), shared by everyone who "
            "used it: start from the transaction that paid into or out of it (TXID)",
            field="from",
        )
    try:
        return AddressStart(text, parse_address(text.strip(), chain).value)
    except InvalidInputError as exc:
        raise InvalidInputError(
            f"start {text!r} is neither TXID:VOUT (TXHASH:LOGINDEX) nor a valid address: {exc}",
            field="from",
        ) from exc


class Finder(Protocol):
    """What a chain's graph answers about starts (items: outputs or transfers)."""

    def tx_items(self, starts: list[TxStart]) -> dict[TxStart, list[int]]:
        """Items of each tx start; raises ``NotFoundError`` for unknown txs or indexes."""

    def address_items(self, start: AddressStart, since: int | None, until: int | None) -> list[int]:
        """Items paid to the address inside the window; ``NotFoundError`` if never seen."""

    def item_value(self, item: int) -> int:
        """The item's value in base units (0: cannot carry taint)."""


def resolve(request: TraceRequest, chain: str, finder: Finder) -> dict[int, int]:
    """Item -> starting taint for every start of ``request``."""
    parsed = [parse_start(text, chain) for text in request.starts]
    by_tx = finder.tx_items([s for s in parsed if isinstance(s, TxStart)])
    found: dict[int, int] = {}
    for start in parsed:
        if isinstance(start, TxStart):
            items: Iterable[int] = by_tx[start]
        else:
            items = finder.address_items(start, request.since, request.until)
        cap = request.cap(start.text)
        for item in items:
            value = finder.item_value(item)
            if value <= 0:
                continue
            amount = value if cap is None else min(value, cap)
            found[item] = max(found.get(item, 0), amount)
    if not found:
        raise NotFoundError("nothing matches the starting points in that time window", field="from")
    return found


def tx_not_found(start: TxStart) -> NotFoundError:
    return NotFoundError(
        f"tx {start.txid} is not in the chain store (start {start.text!r})", field="from"
    )


def index_not_found(start: TxStart, what: str = "output") -> NotFoundError:
    return NotFoundError(
        f"tx {start.txid} has no {what} {start.index} (start {start.text!r})", field="from"
    )


def address_not_found(start: AddressStart) -> NotFoundError:
    return NotFoundError(
        f"{start.text!r} is neither a tx nor an address seen on this chain", field="from"
    )
