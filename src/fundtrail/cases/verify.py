"""Does the chain agree with the complaint? The payment must exist and match.

Bitcoin: output ``vout`` of ``txid`` must pay ``amount`` satoshi to ``to_address``.
EVM: a transfer in ``txid`` (the token transfer at log index ``vout``, or the native
transfer when ``vout`` is empty) must move ``amount`` base units of ``asset`` to
``to_address``. A mismatch is reported with what the chain says instead, so a typo
in a complaint is caught rather than silently stored.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from fundtrail.cases.complaints import ComplaintInput
from fundtrail.chains.ledger import ledger_for
from fundtrail.chainstore.store import ChainStore
from fundtrail.model.chains import get_chain

VERIFIED = "verified"
UNKNOWN_TX = "unknown-tx"
MISMATCH = "mismatch"


@dataclass(frozen=True, slots=True)
class Verification:
    status: str  # verified | unknown-tx | mismatch
    message: str = ""
    field: str | None = None
    time: int | None = None  # block time of the payment (unix seconds)
    height: int | None = None

    @property
    def ok(self) -> bool:
        return self.status == VERIFIED


def verify_payments(
    items: Sequence[ComplaintInput], home: Path | None = None
) -> list[Verification]:
    """Check every complaint against its chain store; one Verification per item, in order."""
    result: list[Verification | None] = [None] * len(items)
    by_chain: dict[str, list[int]] = defaultdict(list)
    for i, item in enumerate(items):
        by_chain[item.chain].append(i)
    for chain, idx in by_chain.items():
        store = ChainStore(chain, home)
        if store.is_empty():
            for i in idx:
                result[i] = Verification(
                    UNKNOWN_TX, f"no {chain} blocks are ingested, so txid cannot be found", "txid"
                )
            continue
        check = _check_utxo if ledger_for(store).shape == "utxo" else _check_account
        for i, v in zip(idx, check(store, [items[i] for i in idx]), strict=True):
            result[i] = v
    return [v for v in result if v is not None]


def _query(store: ChainStore, sql: str, keys: list[str]) -> list[dict[str, Any]]:
    con = store.connect()
    try:
        con.register("wanted", pa.table({"txid": pa.array(sorted(set(keys)), pa.string())}))
        return con.sql(sql).to_arrow_table().to_pylist()
    finally:
        con.close()


def _check_utxo(store: ChainStore, items: list[ComplaintInput]) -> list[Verification]:
    rows = _query(
        store,
        """SELECT t.txid, t.time, t.height, o.n, a.address, o.value
           FROM txs t JOIN wanted w ON t.txid = w.txid
           LEFT JOIN outputs o ON o.tx_id = t.tx_id
           LEFT JOIN addresses a ON a.address_id = o.address_id""",
        [c.txid for c in items],
    )
    txs: dict[str, dict[int, dict[str, Any]]] = defaultdict(dict)
    for r in rows:
        outs = txs[r["txid"]]
        if r["n"] is not None:
            outs[int(r["n"])] = r
    native = get_chain(store.chain.code).native_asset
    return [_match_utxo(c, txs.get(c.txid), native) for c in items]


def _match_utxo(
    c: ComplaintInput, outs: dict[int, dict[str, Any]] | None, native: str
) -> Verification:
    if outs is None:
        return Verification(UNKNOWN_TX, f"txid {c.txid} is not in the chain store", "txid")
    some = next(iter(outs.values()), None)
    when = (some["time"], some["height"]) if some else (None, None)
    out = outs.get(c.vout if c.vout is not None else -1)
    if out is None:
        return Verification(MISMATCH, f"tx {c.txid} has no output {c.vout}", "vout", *when)
    if c.asset != native:
        return Verification(MISMATCH, f"asset {c.asset} is not {native}", "asset", *when)
    if out["address"] != c.to_address:
        return Verification(
            MISMATCH,
            f"output {c.vout} pays {out['address'] or 'no address'}, not {c.to_address}",
            "to_address",
            *when,
        )
    if int(out["value"]) != c.amount:
        return Verification(
            MISMATCH, f"output {c.vout} pays {out['value']}, not {c.amount}", "amount", *when
        )
    return Verification(VERIFIED, "", None, *when)


def _check_account(store: ChainStore, items: list[ComplaintInput]) -> list[Verification]:
    ledger = ledger_for(store)
    keys = [c.txid for c in items] + [c.txid.removeprefix("0x") for c in items]
    rows = _query(
        store,
        """SELECT lower(t.tx_hash) AS txid, t.time, t.block AS height, t.log_index, t.kind,
                  a.address, t.value, t.value_text, s.symbol, s.contract, t.asset_id
           FROM transfers t JOIN wanted w ON lower(t.tx_hash) = w.txid
           LEFT JOIN addresses a ON a.address_id = t.to_id
           LEFT JOIN assets s ON s.asset_id = t.asset_id""",
        keys,
    )
    txs: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        txs[ledger.parse_txid(str(r["txid"]))].append(r)
    native = store.chain.native_asset
    return [_match_account(c, txs.get(c.txid), native) for c in items]


def _asset_names(r: dict[str, Any], native: str) -> set[str]:
    if r["asset_id"] == 0:
        return {native.upper()}
    return {str(x).upper() for x in (r["symbol"], r["contract"]) if x}


def _match_account(
    c: ComplaintInput, rows: list[dict[str, Any]] | None, native: str
) -> Verification:
    if not rows:
        return Verification(UNKNOWN_TX, f"txid {c.txid} is not in the chain store", "txid")
    when = (rows[0]["time"], rows[0]["height"])
    if c.vout is None:
        cands = [r for r in rows if r["kind"] in ("native", "internal")]
        what = "native transfer"
    else:
        cands = [r for r in rows if r["log_index"] == c.vout and r["kind"] == "token"]
        what = f"token transfer at log index {c.vout}"
    if not cands:
        return Verification(MISMATCH, f"tx {c.txid} has no {what}", "vout", *when)
    to_me = [r for r in cands if r["address"] == c.to_address]
    if not to_me:
        return Verification(
            MISMATCH,
            f"the {what} pays {cands[0]['address']}, not {c.to_address}",
            "to_address",
            *when,
        )
    assets = [r for r in to_me if c.asset in _asset_names(r, native)]
    if not assets:
        got = ", ".join(sorted(_asset_names(to_me[0], native))) or "an unknown token"
        return Verification(MISMATCH, f"the {what} moves {got}, not {c.asset}", "asset", *when)
    values = [int(r["value"]) if r["value"] is not None else int(r["value_text"]) for r in assets]
    if c.amount not in values:
        return Verification(
            MISMATCH, f"the {what} moves {values[0]}, not {c.amount}", "amount", *when
        )
    return Verification(VERIFIED, "", None, *when)
