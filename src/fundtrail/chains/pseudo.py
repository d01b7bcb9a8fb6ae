"""Protocol ledgers: the pseudo-addresses that hold, create or destroy value for the
protocol itself, and what a person is told about each.

Value that appears or disappears outside an account's transfers has a pseudo-address as
its other side, so every balance is ``sum(in) - sum(out)`` (``chains/evm/records.py``
lists the EVM ones, ``chains/tron/legacy.py`` TRON's built-in markets). None of them is an
account: no key, no owner to ask, nothing to cluster or screen. This module is the one
place that says what each is:

* readers show them by name with a sentence of explanation (``describe``), never as a
  link to an address that does not exist;
* the analysis reads ``stops`` from here: TRON's built-in markets are venues every trader
  shares (services by construction, though no tag names them), and the shielded pool is a
  privacy pool (what enters is reported; what leaves cannot be tied to what entered), so a
  trace, a campaign link or screening exposure ends at them and never passes through.
  The sources and sinks (genesis, rewards, burns) end nothing: value only leaves the
  sources and only enters the sinks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

GENESIS = "genesis"
BURN = "burn"
MINT = "mint"
BEACON = "beacon"
PSEUDO_ADDRESSES = (GENESIS, BURN, MINT, BEACON)  # given the first ids of every store
ORDER_BOOK = "tron-orderbook"
SHIELDED_POOL = "shielded-pool"
DEX_POOL_PREFIX = "tron-dex:"

SERVICE = "service"  # the attribution category of a venue every trader shares
PRIVACY_POOL = "mixer"  # the screening category of a pool that hides who withdrew


@dataclass(frozen=True, slots=True)
class ProtocolLedger:
    """One pseudo-address as people see it; ``category`` set: traces end there."""

    address: str
    label: str
    about: str
    category: str | None = None

    @property
    def stop(self) -> bool:
        return self.category is not None

    def to_dict(self) -> dict[str, Any]:
        return {"address": self.address, "label": self.label, "about": self.about,
                "category": self.category, "stop": self.stop}  # fmt: skip


_FIXED = {
    GENESIS: ProtocolLedger(
        GENESIS, "genesis allocation", "value the chain's genesis block created (not an account)"
    ),
    BURN: ProtocolLedger(
        BURN, "fees burned",
        "value the protocol destroyed (EIP-1559 base fees, TRON bandwidth and energy fees, "
        "the shielded pool's fee): no one can spend it",
    ),
    MINT: ProtocolLedger(
        MINT, "block rewards", "value the protocol created for block producers (not an account)"
    ),
    BEACON: ProtocolLedger(
        BEACON, "beacon-chain withdrawals",
        "staking withdrawals the beacon chain credited to accounts (not an account)",
    ),
    ORDER_BOOK: ProtocolLedger(
        ORDER_BOOK, "TRON built-in order book",
        "TRON's own order book (MarketSellAsset): a seller's tokens wait here until a match "
        "pays them to the buyer; shared by every trader, no one's account",
        SERVICE,
    ),
    SHIELDED_POOL: ProtocolLedger(
        SHIELDED_POOL, "TRON shielded pool",
        "TRON's shielded (zk-SNARK) pool: value sent in is hidden, and what leaves it cannot "
        "be tied on chain to what entered: a privacy pool, like a mixer",
        PRIVACY_POOL,
    ),
}  # fmt: skip


def describe(address: str | None) -> ProtocolLedger | None:
    """The protocol ledger ``address`` names, or None for anything else (an account, or a
    malformed ``tron-dex:`` name)."""
    if address is None:
        return None
    fixed = _FIXED.get(address)
    if fixed is not None:
        return fixed
    number = address.removeprefix(DEX_POOL_PREFIX)
    if number != address and number.isdigit() and number == str(int(number)):
        return ProtocolLedger(
            address, f"TRON built-in exchange #{number} (Bancor pool)",
            f"pool of TRON's built-in exchange {number} (ExchangeTransaction): a trader sells "
            "one token into it and is paid the other at the pool's price; shared by every "
            "trader, no one's account",
            SERVICE,
        )  # fmt: skip
    return None


def problem(text: str) -> str | None:
    """What is wrong with ``text`` if it means a protocol ledger but names none (a typo in
    ``tron-dex:N``), so that it is not answered as a mistyped account address."""
    if text.startswith(DEX_POOL_PREFIX) and describe(text) is None:
        return (
            f"{text!r} names no protocol ledger: a pool of TRON's built-in exchange is "
            f"{DEX_POOL_PREFIX}N, N the exchange's number (e.g. {DEX_POOL_PREFIX}3)"
        )
    return None


def is_pseudo(address: str) -> bool:
    """Whether ``address`` is a protocol ledger rather than an account someone holds."""
    return describe(address) is not None
