"""Follow the money: the one entry point the CLI, the API, cases and screening call."""

from __future__ import annotations

import csv
from pathlib import Path

from fundtrail.analysis.attribution import attribution
from fundtrail.analysis.trace.request import TraceRequest
from fundtrail.analysis.trace.result import TraceResult
from fundtrail.chains.ledger import ledger_for
from fundtrail.chainstore.store import ChainStore
from fundtrail.errors import InvalidInputError

COMPLAINT_COLUMNS = ("chain", "txid", "vout", "amount")


def trace(request: TraceRequest, *, home: Path | None = None) -> TraceResult:
    """Run ``request`` on its chain's store (in the workspace ``home``).

    Who each cluster is comes from the current tags, the intel the request's viewer may
    see and the chain's behaviour, read now (``analysis.attribution``). Raises
    ``NotFoundError`` for starts the chain store does not hold; the request itself was
    validated when it was made.
    """
    store = ChainStore(request.chain, home)
    store.require_data()
    att = attribution(store, home=home, viewer=request.viewer)
    result = ledger_for(store).trace_kernel()(store, request, att)
    result.summary.update(request.to_dict())
    result.summary["attribution"] = att.fingerprint
    return result


def read_complaints(path: Path, chain: str | None = None) -> tuple[str, list[str], dict[str, int]]:
    """Starting points from a complaints CSV (the simulator's complaints.csv columns).

    Returns (chain, starts, amounts). Rows of other chains than ``chain`` are skipped;
    without ``chain`` the first row's chain is used.
    """
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in COMPLAINT_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise InvalidInputError(
                    f"{path}: missing column(s) {', '.join(missing)}", field="from_complaints"
                )
            rows = list(enumerate(reader, start=2))
    except OSError as exc:
        raise InvalidInputError(
            f"cannot read complaints file {path}: {exc}", field="from_complaints"
        ) from exc
    found: list[str] = []
    amounts: dict[str, int] = {}
    for line, row in rows:
        row_chain = (row.get("chain") or "").strip()
        chain = chain or row_chain
        if row_chain and chain and row_chain.upper() != chain.upper():
            continue
        txid, vout = (row.get("txid") or "").strip(), (row.get("vout") or "").strip()
        if not txid:
            raise InvalidInputError(f"{path}, line {line}: empty txid", field="txid")
        start = f"{txid}:{vout}" if vout not in ("", "-1") else txid
        try:
            amount = int((row.get("amount") or "0").strip())
        except ValueError:
            raise InvalidInputError(
                f"{path}, line {line}: amount {row.get('amount')!r} is not an integer "
                "in base units",
                field="amount",
            ) from None
        if start not in amounts:
            found.append(start)
            amounts[start] = 0
        amounts[start] += amount
    if not found or chain is None:
        raise InvalidInputError(
            f"{path}: no complaint rows for chain {chain or '?'}", field="from_complaints"
        )
    return chain, found, amounts
