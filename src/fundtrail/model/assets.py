"""Every asset fundtrail names, per chain: native coin and the tokens that matter.

One table answers "how many decimals, which symbol, which contract" for every amount the
system shows. USDT is not one asset: it has 6 decimals on Ethereum and TRON and 18 on BNB
Smart Chain, with a different contract on each, so an asset is always looked up *on a
chain*. A token the table does not know keeps the symbol and decimals its contract
declared (read at ingest into the chain store's ``assets`` table, found here through
:func:`add_token_source`); if those are unknown too, the amount is shown in base units and
says so, never guessed. A token looked up there whose symbol is one of the table's on that
chain (a lookalike "USDT") is shown with its contract beside the symbol.

An asset's ``key`` (``"BTC"``, ``"ETH"``, ``"TRX/USDT"``, ``"ETH/0xabc…"``) is the one
string stored wherever a total is kept per asset (campaign losses, freeze requests), so
that two chains' USDT never add up.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from fundtrail.errors import InvalidInputError
from fundtrail.model.chains import get_chain

AssetKind = Literal["native", "token"]


@dataclass(frozen=True, slots=True)
class Asset:
    chain: str  # chain code: BTC, ETH, BSC, TRX, ...
    symbol: str
    decimals: int | None  # None: unknown (shown in base units)
    contract: str | None = None  # None for the native coin; EVM lowercase 0x…, TRON base58 T…
    standard: str | None = None  # ERC-20, BEP-20, TRC-20, TRC-10
    name: str | None = None

    @property
    def kind(self) -> AssetKind:
        return "native" if self.contract is None else "token"

    @property
    def key(self) -> str:
        """Stable text key of the asset: the chain code for a native coin, else CHAIN/SYMBOL
        for a known token and CHAIN/CONTRACT for any other."""
        if self.contract is None:
            return self.chain
        known = _BY_CONTRACT.get((self.chain, _norm_contract(self.chain, self.contract)))
        ref = self.symbol if known is not None else self.contract
        return f"{self.chain}/{ref}"


def _norm_contract(chain: str, contract: str) -> str:
    c = contract.strip()
    return c.lower() if c.lower().startswith("0x") else c


# Native coins come from the chain registry; tokens are listed here with their issuer's
# contract (checked against EIP-55 / base58check by tests) and on-chain decimals.
_TOKENS: tuple[Asset, ...] = (
    Asset("ETH", "USDT", 6, "0xdac17f958d2ee523a2206206994597c13d831ec7", "ERC-20", "Tether USD"),
    Asset("ETH", "USDC", 6, "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48", "ERC-20", "USD Coin"),
    Asset("ETH", "DAI", 18, "0x6b175474e89094c44da98b954eedeac495271d0f", "ERC-20", "Dai"),
    Asset("ETH", "WETH", 18, "0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2", "ERC-20", "WETH"),
    Asset("BSC", "USDT", 18, "0x55d398326f99059ff775485246999027b3197955", "BEP-20", "Tether USD"),
    Asset("BSC", "USDC", 18, "0x8ac76a51cc950d9822d68b83fe1ad97b32cd580d", "BEP-20", "USD Coin"),
    Asset("BSC", "BUSD", 18, "0xe9e7cea3dedca5984780bafc599bd69add087d56", "BEP-20", "BUSD"),
    Asset("POLYGON", "USDT", 6, "0xc2132d05d31c914a87c6611c10748aeb04b58e8f", "ERC-20", "USDT"),
    Asset("TRX", "USDT", 6, "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "TRC-20", "Tether USD"),
    Asset("TRX", "USDC", 6, "TEkxiTehnzSmSe2XqrBj4w32RUN966rdz8", "TRC-20", "USD Coin"),
)

_BY_CONTRACT: dict[tuple[str, str], Asset] = {
    (a.chain, _norm_contract(a.chain, a.contract or "")): a for a in _TOKENS
}
_BY_SYMBOL: dict[tuple[str, str], Asset] = {(a.chain, a.symbol.upper()): a for a in _TOKENS}


# chain code -> {contract: (symbol, decimals)} of the tokens a chain store holds
TokenSource = Callable[[str], Mapping[str, tuple[str | None, int | None]]]
_SOURCES: list[TokenSource] = []


def add_token_source(source: TokenSource) -> None:
    """Where the tokens the table does not list are looked up (the chain stores' ``assets``
    tables; ``fundtrail.chains.ledger`` registers it, since model imports nothing of ours)."""
    if source not in _SOURCES:
        _SOURCES.append(source)


def _stored(code: str, contract: str) -> tuple[str | None, int | None] | None:
    for source in _SOURCES:
        found = source(code).get(contract)
        if found is not None:
            return found
    return None


def _label(code: str, symbol: str | None, contract: str) -> str:
    if not symbol:
        return _short(contract)
    if (code, symbol.upper()) in _BY_SYMBOL:  # a lookalike of a listed token
        return f"{symbol} ({_short(contract)})"
    return symbol


def result_name(chain: str, contract: str | None, symbol: str | None) -> str:
    """The name an asset goes by in results (trace totals and endpoints, swaps): the
    symbol of the native coin (``contract`` None) or of a listed token; any other token by
    its full contract, after the symbol it declares itself if it declares one
    (``"USDT (TXYZop…full contract)"``). So a copy-cat calling itself USDT is never read as
    USDT, and the name resolves back to the same token (:func:`asset`, :func:`resolve`)."""
    code = get_chain(chain).code
    if contract is None:
        return native(code).symbol
    norm = _norm_contract(code, contract)
    known = _BY_CONTRACT.get((code, norm))
    if known is not None:
        return known.symbol
    return f"{symbol} ({norm})" if symbol else norm


_NAMED = re.compile(r"^(?P<symbol>.*\S) \((?P<contract>[^()\s]+)\)$")


def _contract_of(code: str, text: str) -> str | None:
    """The contract of ``text`` if it is one on ``code`` (or a :func:`result_name`)."""
    m = _NAMED.match(text)
    if m is not None:
        text = m.group("contract")
    tron_contract = code == "TRX" and text.startswith("T") and len(text) == 34
    trc10 = code == "TRX" and text.isdigit() and len(text) <= 8  # a TRC-10 token id
    return text if text.lower().startswith("0x") or tron_contract or trc10 else None


def known_tokens(chain: str | None = None) -> list[Asset]:
    """The tokens of the table, of one chain or all."""
    if chain is None:
        return list(_TOKENS)
    code = get_chain(chain).code
    return [a for a in _TOKENS if a.chain == code]


def is_token_symbol(text: str) -> bool:
    """Whether ``text`` names a token of the table (USDT, USDC, ...) rather than a chain:
    such a name alone does not say which chain an address is on."""
    key = text.strip().upper()
    return any(a.symbol.upper() == key for a in _TOKENS)


def native(chain: str) -> Asset:
    """The native coin of ``chain`` (BTC on Bitcoin, BNB on BNB Smart Chain, TRX on TRON)."""
    c = get_chain(chain)
    return Asset(c.code, c.native_asset, c.decimals, None, None, c.name)


def token(
    chain: str, contract: str, *, symbol: str | None = None, decimals: int | None = None
) -> Asset:
    """The token at ``contract`` on ``chain``: the table's entry if known (its decimals win),
    else one built from what the chain store read from the contract (given, or looked up
    in the stores' ``assets`` tables)."""
    code = get_chain(chain).code
    norm = _norm_contract(code, contract)
    known = _BY_CONTRACT.get((code, norm))
    if known is not None:
        return known
    if symbol is None and decimals is None:
        symbol, decimals = _stored(code, norm) or (None, None)
        return Asset(code, _label(code, symbol, norm), decimals, norm)
    return Asset(code, symbol or _short(contract), decimals, norm)


def asset(chain: str, ref: str | None = None) -> Asset:
    """Resolve ``ref`` on ``chain``: None or the native symbol gives the native coin; a known
    token symbol (``USDT``) or a contract gives that token; a key (``TRX/USDT``) also works.

    Raises ``InvalidInputError`` for a symbol the chain does not know (a contract address
    of an unknown token is accepted; its decimals are then unknown).
    """
    code = get_chain(chain).code
    if ref is None or not str(ref).strip():
        return native(code)
    text = str(ref).strip()
    if "/" in text:
        prefix, _, text = text.partition("/")
        if get_chain(prefix).code != code:
            raise InvalidInputError(f"asset {ref!r} is not on chain {code}", field="asset")
    nat = native(code)
    if text.upper() in (nat.symbol.upper(), code):
        return nat
    by_symbol = _BY_SYMBOL.get((code, text.upper()))
    if by_symbol is not None:
        return by_symbol
    contract = _contract_of(code, text)
    if contract is not None:
        return token(code, contract)
    known = ", ".join([nat.symbol] + [a.symbol for a in known_tokens(code)])
    raise InvalidInputError(
        f"unknown asset {ref!r} on {code}; known: {known} (or give the token's contract)",
        field="asset",
    )


def resolve(ref: str, chain: str | None = None) -> Asset:
    """The asset a stored or reported reference names, for showing an amount: a key
    (``TRX/USDT``), a chain code (``BTC``), or a symbol or contract on ``chain``.

    Unlike :func:`asset` this never refuses: a symbol the table does not know (a token the
    chain store named from its contract) is returned with unknown decimals, so its amount
    is shown in base units and says so. Display must not fail on data already stored.
    """
    text = str(ref or "").strip()
    try:
        if "/" in text:
            return from_key(text)
        if chain is not None:
            return asset(chain, text or None)
        return native(text)
    except InvalidInputError:
        code = _chain_code(chain) if chain else None
        # a name nothing knows is some token, never the chain's native coin: its key must
        # not add into the native coin's totals
        return Asset(code or "?", text or "?", None, text or "?")


def _chain_code(chain: str) -> str | None:
    try:
        return get_chain(chain).code
    except InvalidInputError:
        return None


def from_key(key: str) -> Asset:
    """The asset of a stored key (``BTC``, ``TRX/USDT``, ``ETH/0x…``); a bare symbol that is
    a chain code's native coin also resolves (``BNB`` is BSC's native coin)."""
    text = key.strip()
    if "/" in text:
        chain, _, ref = text.partition("/")
        return asset(chain, ref)
    return native(text)


def _short(contract: str) -> str:
    return f"{contract[:6]}…{contract[-4:]}" if len(contract) > 12 else contract
