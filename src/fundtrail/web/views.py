"""What each page shows, gathered from the services; no HTML here."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fundtrail.chains.ledger import ledger_for
from fundtrail.chains.reads import chain_stores
from fundtrail.chainstore.store import ChainStore
from fundtrail.errors import FundtrailError, InvalidInputError, NotFoundError
from fundtrail.intelstore.db import IntelStore
from fundtrail.model.addresses import parse_address
from fundtrail.model.assets import resolve
from fundtrail.model.chains import find_chain
from fundtrail.model.identity import Identity
from fundtrail.pictures.charts import DayBar, bar_chart_svg

_HEX64 = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")
_ADDRESS_CHAINS = ("BTC", "ETH", "TRX", "LTC", "BSC")


def chains_overview(home: Path) -> list[dict[str, Any]]:
    out = []
    for store in chain_stores(home):
        ledger = ledger_for(store)
        st = ledger.stats(store)
        detail = (
            f"heights {st.get('min_height')}–{st.get('max_height')}"
            if ledger.shape == "utxo"
            else f"{st.get('transfers', 0):,} transfers"
        )
        out.append(
            {
                "chain": store.chain.code,
                "blocks": int(st.get("blocks", 0)),
                "txs": int(st.get("txs", 0)),
                "addresses": int(st.get("addresses", 0)),
                "detail": detail,
            }
        )
    return out


def guess_address(q: str) -> tuple[str, str] | None:
    """(chain, normalised) if ``q`` parses as an address on a chain we hold or know."""
    for chain in _ADDRESS_CHAINS:
        try:
            return chain, parse_address(q, chain).value
        except InvalidInputError:
            continue
    return None


def address_problem(q: str) -> str | None:
    """If ``q`` looks like an address but fails validation, say why (for the search box)."""
    s = q.strip()
    looks = s.startswith(("bc1", "tb1", "ltc1", "0x", "T")) or (
        s[:1] in "13LM" and 25 <= len(s) <= 35
    )
    if not looks or _HEX64.match(s):
        return None
    chain = "ETH" if s.startswith("0x") else "TRX" if s.startswith("T") else "BTC"
    chain = "LTC" if s.lower().startswith("ltc1") or s[:1] in "LM" else chain
    try:
        parse_address(s, chain)
    except InvalidInputError as exc:
        return exc.message
    return None


def find_protocol_ledger(home: Path, q: str) -> tuple[str, str] | None:
    """(chain, name) of the first chain of the workspace holding protocol ledger ``q``."""
    for store in chain_stores(home):
        ledger = ledger_for(store)
        if ledger.describe(q) is not None:
            try:
                ledger.address_summary(store, q)
            except NotFoundError:
                continue
            return store.chain.code, q
    return None


def find_tx(home: Path, q: str) -> tuple[str, str] | None:
    """(chain, stored key) of the first chain of the workspace holding transaction ``q``."""
    for store in chain_stores(home):
        ledger = ledger_for(store)
        if ledger.has_tx(store, q):
            return store.chain.code, ledger.parse_txid(q)
    return None


def address_page(home: Path, chain: str, address: str) -> dict[str, Any]:
    """An address's page; a protocol ledger's (``burn``, ``tron-dex:3``) is its own: what
    flowed in and out of it here, and the transactions that used it, with no cluster,
    tags or screening (no one holds it)."""
    store = ChainStore(chain, home)
    ledger = ledger_for(store)
    summary = ledger.address_summary(store, address)
    if "protocol" in summary:
        return {
            "summary": summary,
            "protocol": summary["protocol"],
            "normalised": address,
            "recent": ledger.recent_transfers(store, address),
        }
    # account ledgers say received/sent; the page shows the native totals either way
    summary.setdefault("total_received", summary.get("received", 0))
    summary.setdefault("total_sent", summary.get("sent", 0))
    norm = ledger.parse_address(address).value
    cluster: dict[str, Any] | None = None
    try:
        from fundtrail.analysis.cluster.query import show

        cluster = show(store, norm, home=home)
    except NotFoundError:
        cluster = None
    return {
        "summary": summary,
        "normalised": norm,
        "cluster": cluster,
        "evidence": cluster_evidence(store, norm) if cluster else [],
        "timeline": timeline(store, norm),
        "tags": _tags(home, store.chain.code, norm),
    }


def _tags(home: Path, chain: str, norm: str) -> list[dict[str, Any]]:
    from fundtrail.chainstore.tags import TagStore

    return [t.to_dict() for t in TagStore(home).lookup(chain, [norm])]


def cluster_evidence(store: ChainStore, norm: str, limit: int = 25) -> list[dict[str, Any]]:
    """The joins this address takes part in: the other address, the tx and the heuristic.

    Three narrow reads (the address's id, its edges, then only those edges' addresses and
    txids) rather than one join over the whole edge, address and tx tables."""
    if not store.parts("cluster_edges"):
        return []
    con = store.connect()
    try:
        utxo = ledger_for(store).shape == "utxo"
        me = con.execute("SELECT address_id FROM addresses WHERE address = $a", {"a": norm})
        found = me.fetchone()
        if found is None:
            return []
        tx = "tx_id" if utxo else "tx_hash"
        edges = con.execute(
            f"""SELECT CASE WHEN address_id_a = $me THEN address_id_b ELSE address_id_a END,
                       {tx}, heuristic
                FROM cluster_edges WHERE address_id_a = $me OR address_id_b = $me
                LIMIT {int(limit)}""",
            {"me": int(found[0])},
        ).fetchall()
        if not edges:
            return []
        ids = sorted({int(e[0]) for e in edges})
        names = dict(
            con.execute(
                "SELECT address_id, address FROM addresses WHERE address_id = ANY($ids)",
                {"ids": ids},
            ).fetchall()
        )
        txids: dict[Any, Any] = {}
        if utxo:
            tx_ids = sorted({int(e[1]) for e in edges if e[1] is not None})
            txids = dict(
                con.execute(
                    "SELECT tx_id, txid FROM txs WHERE tx_id = ANY($ids)", {"ids": tx_ids}
                ).fetchall()
            )
    finally:
        con.close()
    return [
        {
            "other": names.get(int(other)),
            "tx": (txids.get(t) if utxo else t),
            "heuristic": heuristic,
        }
        for other, t, heuristic in edges
    ]


def timeline(store: ChainStore, norm: str) -> list[dict[str, Any]]:
    """Value received and sent per day (base units), for the activity chart."""
    return ledger_for(store).activity(store, norm)


def timeline_svg(points: list[dict[str, Any]], chain: str) -> str:
    """The activity chart: received up, sent down per day, in the chain's native coin."""
    bars = [
        DayBar(date.fromisoformat(str(p["day"])), int(p["received"]), int(p["sent"]))
        for p in points
    ]
    return bar_chart_svg(
        bars,
        resolve(chain),
        title="Activity per day",
        up_label="received",
        down_label="sent",
        css_class="timeline",
    )


def screening(
    store: IntelStore, home: Path, who: Identity, chain: str, address: str
) -> dict[str, Any] | None:
    from fundtrail.screen.service import screener
    from fundtrail.screen.verdicts import ScreenItem

    try:
        result = screener(store, home).answer([ScreenItem(chain, address)], who)
    except NotFoundError:
        return None
    item = dict(result["items"][0])
    item["reasons"] = _distinct(item.get("reasons") or [])
    return {**item, "rebuild_pending": result["rebuild_pending"]}


def _distinct(reasons: list[Any]) -> list[Any]:
    """Each reason once (the same source met through several paths is one reason to read)."""
    import json

    seen: set[str] = set()
    out = []
    for r in reasons:
        key = json.dumps(r, sort_keys=True, default=str)
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out


def indicators_mentioning(store: IntelStore, who: Identity, value: str) -> list[Any]:
    from fundtrail.intel.indicators import IndicatorService
    from fundtrail.intelstore.indicators import IndicatorQuery

    try:
        page = IndicatorService(store).search(who, IndicatorQuery(q=value), limit=50)
    except FundtrailError:
        return []
    return list(page.items)


def search(
    home: Path, store: IntelStore, who: Identity, q: str
) -> tuple[str | None, list[dict[str, str]]]:
    """(redirect URL, results): an exact hit redirects, otherwise a list of matches."""
    q = q.strip()
    if not q:
        return None, []
    if addr := guess_address(q):
        return f"/ui/address/{addr[0]}/{addr[1]}", []
    if ledger := find_protocol_ledger(home, q):
        return f"/ui/address/{ledger[0]}/{quote(ledger[1], safe='')}", []
    if problem := address_problem(q):
        raise InvalidInputError(problem, field="q")
    if _HEX64.match(q) and (tx := find_tx(home, q)):
        return f"/ui/tx/{tx[0]}/{tx[1]}", []
    results: list[dict[str, str]] = []
    try:
        from fundtrail.cases.campaigns import list_campaigns

        with store.read_session() as s:
            for c in list_campaigns(s, who):
                if q.lower() in (c.id.lower(), (c.case_reference or "").lower()):
                    return f"/ui/campaigns/{c.id}", []
    except FundtrailError:
        pass
    for ind in indicators_mentioning(store, who, q):
        results.append(
            {
                "kind": f"indicator · {ind.type}",
                "url": f"/ui/intel/{ind.id}",
                "title": ind.value,
                "detail": f"{ind.category} · TLP:{ind.tlp.upper()} · {ind.org}",
            }
        )
    results.extend(_entity_hits(home, q))
    return None, results


def _entity_hits(home: Path, q: str, limit: int = 50) -> list[dict[str, str]]:
    """Attributed clusters whose label matches (attribution read now, not a stored copy)."""
    from fundtrail.analysis.attribution import attribution

    hits: list[dict[str, str]] = []
    for store in chain_stores(home):
        if not store.parts("clusters"):
            continue
        found = attribution(store, home=home).find(q)[:limit]
        if not found:
            continue
        con = store.connect()
        try:
            ids = [int(e["cluster_id"]) for e in found]  # type: ignore[call-overload]  # smallest member
            rows = dict(
                con.execute(
                    "SELECT address_id, address FROM addresses WHERE list_contains(?, address_id)",
                    [ids],
                ).fetchall()
            )
        finally:
            con.close()
        for e, cid in zip(found, ids, strict=True):
            if cid in rows:
                hits.append(
                    {
                        "kind": f"entity · {store.chain.code}",
                        "url": f"/ui/address/{store.chain.code}/{rows[cid]}",
                        "title": str(e["label"]),
                        "detail": f"{e['category']} · {e['heuristic']}",
                    }
                )
    return hits


def is_evm(chain: str) -> bool:
    found = find_chain(chain)
    return found is not None and found.family == "evm"
