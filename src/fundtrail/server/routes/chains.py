"""Chain data under /api/v1: what was ingested, addresses, transactions, traces.

Ledger data is public (the chains are); attribution shown here comes from the tag
store. Shared indicators stay behind /api/v1/indicators with their TLP filter.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from fundtrail.analysis.trace.request import (
    DEFAULT_HOPS,
    DEFAULT_MIN_SHARE,
    Direction,
    Method,
    TraceRequest,
)
from fundtrail.chains.ledger import ledger_for
from fundtrail.chains.reads import chain_stores
from fundtrail.chainstore.store import ChainStore
from fundtrail.errors import NotFoundError
from fundtrail.model.identity import Identity
from fundtrail.server.auth import require_identity

router = APIRouter(prefix="/api/v1", tags=["chains"])


def _home(request: Request) -> Path:
    return Path(request.app.state.settings.home)


@router.get("/chains")
def chains(request: Request, who: Identity = Depends(require_identity)) -> list[dict[str, Any]]:
    """Every ingested chain with its counts (what `fundtrail stats --json` prints)."""
    return [
        {"chain": store.chain.code, **ledger_for(store).stats(store)}
        for store in chain_stores(_home(request))
    ]


@router.get("/addresses/{chain}/{address}")
def address(
    request: Request, chain: str, address: str, who: Identity = Depends(require_identity)
) -> dict[str, Any]:
    """Balance, totals, activity, cluster and attribution tags of one address (or of a
    protocol ledger such as ``tron-dex:3``, with ``protocol`` saying what it is)."""
    from fundtrail.analysis.cluster.query import show
    from fundtrail.chainstore.tags import TagStore

    store = ChainStore(chain, _home(request))
    ledger = ledger_for(store)
    summary = ledger.address_summary(store, address)
    if "protocol" in summary:  # a protocol ledger (``tron-dex:3``): no one's cluster or tags
        return {**summary, "cluster": None, "tags": []}
    norm = ledger.parse_address(address).value
    try:
        cluster: dict[str, Any] | None = show(store, norm, home=_home(request))
    except NotFoundError:
        cluster = None
    tags = TagStore(_home(request)).lookup(store.chain.code, [norm])
    return {**summary, "cluster": cluster, "tags": [t.to_dict() for t in tags]}


@router.get("/txs/{chain}/{txid}")
def tx(
    request: Request, chain: str, txid: str, who: Identity = Depends(require_identity)
) -> dict[str, Any]:
    """One transaction with its inputs and outputs (or transfers on account chains)."""
    store = ChainStore(chain, _home(request))
    return ledger_for(store).tx_summary(store, txid)


@router.get("/trace")
def trace(
    request: Request,
    chain: str = Query("BTC"),
    start: list[str] = Query(..., description="TXID:VOUT, TXHASH[:LOGINDEX] or an address"),
    direction: Direction = Query("forward"),
    method: Method = Query("haircut"),
    hops: int = Query(DEFAULT_HOPS),
    min_share: float = Query(DEFAULT_MIN_SHARE),
    min_amount: int = Query(0),
    since: str | None = Query(None, description="date or unix time"),
    until: str | None = Query(None, description="date or unix time"),
    who: Identity = Depends(require_identity),
) -> dict[str, Any]:
    """Follow the money: the same JSON as `fundtrail trace --json` (endpoints, graph, summary)."""
    from fundtrail.analysis.trace.service import trace as run_trace

    req = TraceRequest.parse(
        chain, start, direction=direction, method=method, hops=hops, min_share=min_share,
        min_amount=min_amount, since=since, until=until, viewer=who,
    )  # fmt: skip
    return dict(run_trace(req, home=_home(request)).to_dict())
