"""The link tests' way to a user's view: a test chain's payments as complaints, imported
(by the operator or by named orgs) and linked, as ``complaints import`` does."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fundtrail.cases.complaints import ComplaintInput
from fundtrail.cases.intake import add_complaints
from fundtrail.cases.relink import link_campaigns
from fundtrail.intelstore.db import open_store
from fundtrail.intelstore.orgs import add_org


def complaints(chain: str, pays: Sequence[Any], paid_to: Sequence[str]) -> list[ComplaintInput]:
    """Victim i reports payment i (to ``paid_to[i]``) as complaint Ci; a UTXO payment is
    output 0 of its tx."""
    vout = None if chain in ("ETH", "TRX") else 0
    return [
        ComplaintInput(
            f"victim {i}", chain, p.txid, vout, to, p.amount, chain, complaint_id=f"C{i}"
        )
        for i, (p, to) in enumerate(zip(pays, paid_to, strict=True))
    ]


def import_and_link(
    home: Path, *reports: tuple[Sequence[ComplaintInput], tuple[str, str] | None]
) -> Any:
    """Each batch imported by its reporter (an org's name and kind, made here; None: the
    operator), every complaint accepted, then one linking; its report."""
    store = open_store()
    try:
        for items, org in reports:
            org_id = None
            if org is not None:
                with store.session() as s:
                    org_id = add_org(s, *org).id
            added = add_complaints(store, list(items), org_id=org_id, home=home)
            assert added.imported == len(items)
        return link_campaigns(store, home=home)
    finally:
        store.close()


def groups_of(n: int, joins: Sequence[Any]) -> list[set[int]]:
    """The groups ``0..n-1`` form when every join (anything with ``a`` and ``b``: a
    meeting, a deposit join) unites its two, smallest member first."""
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            x = parent[x]
        return x

    for j in joins:
        parent[max(find(j.a), find(j.b))] = min(find(j.a), find(j.b))
    out: dict[int, set[int]] = {}
    for i in range(n):
        out.setdefault(find(i), set()).add(i)
    return sorted(out.values(), key=min)
