"""Follow the money: the one entry point the CLI, the API, cases and screening call."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

from fundtrail.analysis.trace import acctrace, utxo
from fundtrail.analysis.trace.graph import utxo_graph
from fundtrail.analysis.trace.result import TraceResult
from fundtrail.chainstore.store import ChainStore
from fundtrail.errors import InvalidInputError, NotFoundError

DIRECTIONS = ("forward", "backward")
METHODS = ("poison", "haircut", "fifo")
COMPLAINT_COLUMNS = ("chain", "txid", "vout", "amount")

TimeLike = int | str | datetime | None


def trace(
    chain: str,
    starts: list[str],
    *,
    direction: str = "forward",
    method: str = "haircut",
    hops: int = 10,
    min_amount: int = 0,
    since: TimeLike = None,
    until: TimeLike = None,
    home: Path | None = None,
    amounts: dict[str, int] | None = None,
) -> TraceResult:
    """Trace ``starts`` (TXID:VOUT, TXHASH:LOGINDEX, TXHASH or ADDR) through one chain.

    ``amounts`` optionally caps the taint of a start (a complaint's reported amount when
    the victim's payment was only part of an output). Raises ``InvalidInputError`` for
    bad arguments and ``NotFoundError`` for starts the chain store does not hold.
    """
    if direction not in DIRECTIONS:
        raise InvalidInputError(
            f"direction must be forward or backward, not {direction!r}", field="direction"
        )
    if method not in METHODS:
        raise InvalidInputError(
            f"method must be poison, haircut or fifo, not {method!r}", field="method"
        )
    if hops < 0:
        raise InvalidInputError(f"hops must be 0 or more, not {hops}", field="hops")
    if min_amount < 0:
        raise InvalidInputError(
            f"min_amount must be 0 or more, not {min_amount}", field="min_amount"
        )
    if not starts:
        raise InvalidInputError("give at least one starting point (--from)", field="from")
    store = ChainStore(chain, home)
    store.require_data()
    t0, t1 = to_time(since, "since"), to_time(until, "until")
    if store.model == "utxo":
        result = _trace_utxo(store, starts, direction, method, hops, min_amount, t0, t1, amounts)
    else:
        result = acctrace.trace_account(
            store,
            starts,
            direction=direction,
            method=method,
            hops=hops,
            min_amount=min_amount,
            since=t0,
            until=t1,
            amounts=amounts,
        )
    result.summary.update({"hops": hops, "min_amount": min_amount, "since": t0, "until": t1})
    return result


def _trace_utxo(
    store: ChainStore,
    starts: list[str],
    direction: str,
    method: str,
    hops: int,
    min_amount: int,
    since: int | None,
    until: int | None,
    amounts: dict[str, int] | None,
) -> TraceResult:
    g = utxo_graph(store)
    con = g.cursor()
    try:
        found = utxo.resolve_starts(
            store, con, g, starts, since=since, until=until, amounts=amounts
        )
        if not found:
            raise NotFoundError(
                "no output matches the starting points in that time window", field="from"
            )
        w = utxo.walk(
            g,
            found,
            direction=direction,
            method=method,
            hops=hops,
            min_amount=min_amount,
            since=since,
            until=until,
        )
        return utxo.build_result(store, con, g, w, found, direction=direction, method=method)
    finally:
        con.close()


def to_time(value: TimeLike, field: str) -> int | None:
    """Unix seconds from an int, an ISO date/time string or a datetime (UTC if naive)."""
    if value is None or isinstance(value, int):
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit():
            return int(text)
        try:
            value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidInputError(
                f"{field} {text!r} is not a date (YYYY-MM-DD[THH:MM:SS]) or unix time", field=field
            ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp())


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
    starts: list[str] = []
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
            starts.append(start)
            amounts[start] = 0
        amounts[start] += amount
    if not starts or chain is None:
        raise InvalidInputError(
            f"{path}: no complaint rows for chain {chain or '?'}", field="from_complaints"
        )
    return chain, starts, amounts
