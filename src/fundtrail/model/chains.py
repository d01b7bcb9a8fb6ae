"""The chain registry: every chain fundtrail knows, its ledger family, native coin and decimals.

The *family* says which ledger adapter reads a chain (``fundtrail.chains.ledger``): ``utxo``
(Bitcoin and its forks), ``evm`` (Ethereum-style accounts), ``tron`` (TRON accounts), or
``other`` (chains whose addresses fundtrail validates for intel but whose ledgers it does
not hold). It is decided here, once; code elsewhere asks the adapter, never the family.

Tokens are not chains: USDT or USDC name an asset that lives on several chains (with
different decimals), so they are looked up in ``fundtrail.model.assets`` on a chain.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from fundtrail.errors import InvalidInputError

Family = Literal["utxo", "evm", "tron", "other"]


@dataclass(frozen=True, slots=True)
class Chain:
    code: str  # upper-case ticker used in the API: BTC, ETH, BSC, TRX
    name: str
    family: Family
    native_asset: str
    decimals: int

    @property
    def store(self) -> str:
        """Name of the chain-store folder (lower case)."""
        return self.code.lower()

    @property
    def has_ledger(self) -> bool:
        """Whether fundtrail can ingest and read this chain (not only validate addresses)."""
        return self.family != "other"


CHAINS: dict[str, Chain] = {
    c.code: c
    for c in (
        Chain("BTC", "Bitcoin", "utxo", "BTC", 8),
        Chain("LTC", "Litecoin", "utxo", "LTC", 8),
        Chain("BCH", "Bitcoin Cash", "utxo", "BCH", 8),
        Chain("DASH", "Dash", "utxo", "DASH", 8),
        Chain("ZEC", "Zcash", "utxo", "ZEC", 8),
        Chain("ETH", "Ethereum", "evm", "ETH", 18),
        Chain("BSC", "BNB Smart Chain", "evm", "BNB", 18),
        Chain("ETC", "Ethereum Classic", "evm", "ETC", 18),
        Chain("ARB", "Arbitrum One", "evm", "ETH", 18),
        Chain("POLYGON", "Polygon PoS", "evm", "POL", 18),
        Chain("OPTIMISM", "OP Mainnet", "evm", "ETH", 18),
        Chain("BASE", "Base", "evm", "ETH", 18),
        Chain("AVAX", "Avalanche C-Chain", "evm", "AVAX", 18),
        Chain("FTM", "Fantom Opera", "evm", "FTM", 18),
        Chain("TRX", "TRON", "tron", "TRX", 6),
        Chain("XMR", "Monero", "other", "XMR", 12),
        Chain("XRP", "XRP Ledger", "other", "XRP", 6),
    )
}

# Other names of chains (never of tokens: USDT/USDC are assets on several chains).
ALIASES = {
    "XBT": "BTC",
    "BITCOIN": "BTC",
    "ETHEREUM": "ETH",
    "BNB": "BSC",
    "TRON": "TRX",
    "MATIC": "POLYGON",
    "OP": "OPTIMISM",
}

EVM_CHAINS = frozenset(c.code for c in CHAINS.values() if c.family == "evm")


def known_chains() -> str:
    """The registry's chain codes, for error messages."""
    return ", ".join(sorted(CHAINS))


def find_chain(code: str) -> Chain | None:
    """The registry's chain named ``code`` (code or alias, any case), or None."""
    key = code.strip().upper() if isinstance(code, str) else ""
    return CHAINS.get(ALIASES.get(key, key))


def get_chain(code: str) -> Chain:
    """The registry's chain named ``code``; an unknown name is an error naming the known."""
    found = find_chain(code)
    if found is None:
        raise InvalidInputError(
            f"unknown chain {code!r}; known: {known_chains()}", field="chain"
        ) from None
    return found


def evm_chain(code: str) -> Chain:
    """An EVM chain by name, for *intel* about chains fundtrail holds no ledger of (tags on
    a KCS or Celo address): an unknown, well-formed name is accepted as a custom EVM chain.

    Never use this to open a chain store: stores and reads take only registry chains
    (``get_chain``), so a typo cannot create an empty chain in the workspace.
    """
    found = find_chain(code)
    if found is not None:
        return found
    key = code.strip().upper()
    if not key or not key.replace("-", "").replace("_", "").isalnum():
        raise InvalidInputError(f"invalid chain name {code!r}", field="chain")
    return Chain(key, key, "evm", key, 18)
