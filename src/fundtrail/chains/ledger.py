"""One ledger interface for every chain: the adapter of a chain family, chosen once.

Code outside the adapters never asks which kind of chain it holds; it asks the chain's
adapter (``ledger_for(chain or store)``) to parse an address or a transaction id, show an
address, look an asset up, read the store, pick the heuristics and the trace kernel::

    ledger = ledger_for(store)          # or ledger_for("TRX"), ledger_for(chain)
    key = ledger.parse_address(text).value
    ledger.tx_summary(store, txid)

Families (``fundtrail.model.chains.Family``) map to adapters in ``_ADAPTERS``:

    utxo  chains.bitcoin.ledger.UtxoLedger  outputs/inputs tables, multi_input clustering
    evm   chains.evm.ledger.EvmLedger       transfers tables, EIP-55 addresses
    tron  chains.tron.ledger.TronLedger     transfers tables, base58check ``T…`` addresses

A new chain of an existing family is one registry row in ``model/chains.py``; a new
family is a folder under ``chains/`` with its adapter, plus one line here.

``shape`` is the layout of the store's tables (``utxo``: outputs and inputs; ``account``:
transfers with an asset id): the one fact that kernels reading the tables directly
(clustering, the exposure graph) depend on. Everything that differs between families of
one shape (address text, transaction ids, assets, reads) is a method.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from functools import cache
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from fundtrail.errors import InvalidInputError
from fundtrail.model import assets
from fundtrail.model.addresses import Address, format_address, parse_address
from fundtrail.model.assets import Asset
from fundtrail.model.chains import Chain, Family, get_chain
from fundtrail.model.txids import parse_txid

if TYPE_CHECKING:
    from fundtrail.analysis.trace.result import TraceResult
    from fundtrail.chains.pseudo import ProtocolLedger
    from fundtrail.chainstore.store import ChainStore

Shape = Literal["utxo", "account"]
TraceKernel = Callable[..., "TraceResult"]

_ADAPTERS: dict[Family, str] = {
    "utxo": "fundtrail.chains.bitcoin.ledger",
    "evm": "fundtrail.chains.evm.ledger",
    "tron": "fundtrail.chains.tron.ledger",
}


class Ledger:
    """What fundtrail knows how to do with one chain; subclassed once per family."""

    family: ClassVar[Family]
    shape: ClassVar[Shape]
    heuristics: ClassVar[tuple[str, ...]]  # clustering heuristics that apply
    default_heuristics: ClassVar[tuple[str, ...]]
    ingest_sources: ClassVar[tuple[str, ...]]  # what `fundtrail ingest` reads for it

    def __init__(self, chain: Chain) -> None:
        self.chain = chain

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.chain.code})"

    # ---- addresses and transaction ids ---------------------------------------------
    def parse_address(self, text: str) -> Address:
        """Validate ``text`` (checksums included); ``.value`` is the stored key."""
        return parse_address(text, self.chain.code)

    def describe(self, text: str) -> ProtocolLedger | None:
        """The protocol ledger ``text`` names (``burn``, ``tron-dex:3``), if this family
        stores such pseudo-addresses; None for an account's address."""
        return None

    def address_key(self, text: str) -> str:
        """The stored key of an address or a protocol ledger's name (validated)."""
        return text if self.describe(text) is not None else self.parse_address(text).value

    def format_address(self, key: str | None) -> str | None:
        """What people see for a stored address key (EIP-55, ``T…``, ...)."""
        return format_address(key, self.chain.code)

    def parse_txid(self, text: str, *, field: str = "tx") -> str:
        """The stored key of a transaction id; raises InvalidInputError naming the format."""
        return parse_txid(text, self.chain.code, field=field)

    # ---- assets ----------------------------------------------------------------------
    def native(self) -> Asset:
        return assets.native(self.chain.code)

    def asset(self, ref: str | None = None) -> Asset:
        """An asset of this chain by symbol, contract or key; None is the native coin."""
        return assets.asset(self.chain.code, ref)

    def stored_asset(self, contract: str | None, symbol: str | None, decimals: int | None) -> Asset:
        """The asset of a row of the store's ``assets`` table: the asset table's entry for
        a known contract, else what ingest read from the contract (decimals may be None:
        then amounts are shown in base units, never with guessed decimals)."""
        if contract is None:
            return self.native()
        shown = self.format_address(contract) or contract
        return assets.token(self.chain.code, shown, symbol=symbol, decimals=decimals)

    # ---- reads (every family answers the same questions) -------------------------------
    def stats(self, store: ChainStore) -> dict[str, Any]:
        """Counts of what the store holds (``fundtrail stats``)."""
        return dict(self._reads().stats(store))

    def address_summary(self, store: ChainStore, address: str) -> dict[str, Any]:
        """Balance, totals, tx count, first and last seen of one address."""
        return dict(self._reads().address_summary(store, address))

    def tx_summary(self, store: ChainStore, txid: str) -> dict[str, Any]:
        """One transaction with every value it moved."""
        return dict(self._reads().tx_summary(store, txid))

    def activity(self, store: ChainStore, address: str) -> list[dict[str, Any]]:
        """Native coin received and sent per UTC day (base units), for activity charts."""
        return list(self._reads().activity(store, self.address_key(address)))

    def recent_transfers(
        self, store: ChainStore, address: str, limit: int = 50
    ) -> list[dict[str, Any]]:
        """The latest transfers into and out of an address (account ledgers), newest first."""
        return list(self._reads().recent_transfers(store, self.address_key(address), limit))

    def balances(self, store: ChainStore, keys: Iterable[str]) -> dict[tuple[str, Asset], int]:
        """{(address key, asset): balance now} for stored address keys, every asset held."""
        rows = self._reads().balances(store, sorted(set(keys)))
        return {
            (address, self.stored_asset(contract, symbol, decimals)): int(value)
            for address, contract, symbol, decimals, value in rows
        }

    def received(self, store: ChainStore, keys: Iterable[str]) -> dict[tuple[str, Asset], int]:
        """{(address key, asset): everything the address ever received}, every asset.

        What a deposit address took in over its life: the measure of how much of it a
        trace's proceeds are (an ordinary customer reached by a sliver holds mostly its own)."""
        rows = self._reads().received(store, sorted(set(keys)))
        return {
            (address, self.stored_asset(contract, symbol, decimals)): int(value)
            for address, contract, symbol, decimals, value in rows
        }

    def has_tx(self, store: ChainStore, txid: str) -> bool:
        """Whether the store holds transaction ``txid`` (any spelling of the id)."""
        try:
            key = self.parse_txid(txid)
        except InvalidInputError:
            return False
        return bool(self._reads().has_tx(store, key))

    # ---- analysis entry points ---------------------------------------------------------
    def trace_kernel(self) -> TraceKernel:
        """The tracer for this family's tables: ``kernel(store, request) -> TraceResult``
        (``request`` a validated ``fundtrail.analysis.trace.request.TraceRequest``)."""
        raise NotImplementedError

    def _reads(self) -> Any:
        raise NotImplementedError


@cache
def _adapter(chain: Chain) -> Ledger:
    module = _ADAPTERS.get(chain.family)
    if module is None:
        raise InvalidInputError(
            f"fundtrail validates {chain.code} addresses but holds no {chain.name} ledger; "
            f"chains with a ledger: {', '.join(ledger_chains())}",
            field="chain",
        )
    cls: type[Ledger] = importlib.import_module(module).LEDGER
    return cls(chain)


def ledger_for(chain: str | Chain | ChainStore) -> Ledger:
    """The adapter of a chain (code, alias, registry entry or an open chain store).

    Raises InvalidInputError naming the known chains for a name the registry lacks.
    """
    if isinstance(chain, str):
        return _adapter(get_chain(chain))
    if isinstance(chain, Chain):
        return _adapter(chain)
    return _adapter(chain.chain)


def ledger_chains() -> list[str]:
    """Codes of every chain fundtrail can ingest and read."""
    from fundtrail.model.chains import CHAINS

    return sorted(c.code for c in CHAINS.values() if c.family in _ADAPTERS)


_STORED_TOKENS: dict[str, tuple[int, dict[str, tuple[str | None, int | None]]]] = {}


def stored_tokens(code: str) -> dict[str, tuple[str | None, int | None]]:
    """{contract: (symbol, decimals)} of the tokens the workspace's chain store of ``code``
    holds (read at ingest from the contracts or the node), for showing amounts of tokens
    the asset table does not list. Cached per store version; {} where there is none."""
    from fundtrail.chainstore.store import ChainStore
    from fundtrail.errors import FundtrailError

    try:
        chain = get_chain(code)
        if chain.family not in ("evm", "tron"):
            return {}
        store = ChainStore(chain)
        cached = _STORED_TOKENS.get(str(store.root))
        if cached is not None and cached[0] == store.version:
            return cached[1]
        rows = store.read_table("assets", ["contract", "symbol", "decimals"]).to_pylist()
        found = {
            str(r["contract"]) if chain.family == "tron" else str(r["contract"]).lower(): (
                r["symbol"],
                None if r["decimals"] is None else int(r["decimals"]),
            )
            for r in rows
            if r["contract"]
        }
        _STORED_TOKENS[str(store.root)] = (store.version, found)
        return found
    except (FundtrailError, OSError, ValueError, KeyError):
        return {}  # display never fails on a store it cannot read


assets.add_token_source(stored_tokens)
