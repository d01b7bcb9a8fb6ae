"""Where the evidence came from: blocks ingested per chain, attribution tag sources."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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
            rows = con.execute(
                "SELECT coalesce(source, ''), count(*) FROM entities GROUP BY 1 ORDER BY 1"
            ).fetchall()
        finally:
            con.close()
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
