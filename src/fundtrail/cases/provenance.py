"""Where the evidence came from: blocks ingested per chain, attribution tag sources."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fundtrail.analysis.attribution import attribution
from fundtrail.chains.ledger import ledger_for
from fundtrail.chainstore.store import ChainStore


def chain_provenance(chains: list[str], home: Path | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"chains": [], "tag_sources": []}
    sources: dict[str, int] = {}
    for code in chains:
        store = ChainStore(code, home)
        con = store.connect()
        try:
            key = "height" if ledger_for(store).shape == "utxo" else "number"
            n, first, last = con.execute(
                f"SELECT count(*), min({key}), max({key}) FROM blocks"
            ).fetchone() or (0, None, None)
            tip = con.execute(f"SELECT hash FROM blocks ORDER BY {key} DESC LIMIT 1").fetchone()
        finally:
            con.close()
        rows = _attribution_sources(store, home)
        out["chains"].append(
            {
                "chain": code,
                "blocks": int(n or 0),
                "first": first,
                "last": last,
                "tip": tip[0] if tip else None,
                "store_version": store.version,
            }
        )
        for src, count in rows:
            label = f"{code}: {src or 'unnamed source'}"
            sources[label] = sources.get(label, 0) + int(count)
    out["tag_sources"] = [{"source": s, "entities": n} for s, n in sorted(sources.items())]
    return out


def _attribution_sources(store: ChainStore, home: Path | None) -> list[tuple[str, int]]:
    """Attributed clusters per source (tags by source, behaviour by heuristic), read now."""
    if not store.parts("clusters"):
        return []
    counts: dict[str, int] = {}
    for e in attribution(store, home=home).entities.all():
        key = e.source if e.heuristic == "tag" else f"behaviour: {e.heuristic}"
        counts[key] = counts.get(key, 0) + 1
    return sorted(counts.items())
