"""The investigation steps as service functions over the configured stores.

Each opens the intel store, does one job and returns plain data (what the CLI
prints with ``--json``). The steps themselves live in their modules and take an
open store: ``intake.import_complaints``, ``relink.link_campaigns``,
``casefile.trace_campaign``, ``casefile.write_campaign_report``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fundtrail.cases.access import OPERATOR, Viewer
from fundtrail.cases.campaigns import get_campaign, list_campaigns, open_case
from fundtrail.cases.casefile import trace_campaign, write_campaign_report
from fundtrail.cases.intake import import_complaints
from fundtrail.cases.relink import link_campaigns
from fundtrail.cases.tracing import TraceParams
from fundtrail.intelstore.db import IntelStore, open_store
from fundtrail.intelstore.orgs import get_org_by_name

__all__ = [
    "campaign_report",
    "campaign_share",
    "campaign_show",
    "campaign_trace",
    "campaigns_list",
    "import_and_link",
    "import_complaints",
    "link_campaigns",
    "relink",
    "trace_campaign",
    "write_campaign_report",
    "write_report",
]

write_report = write_campaign_report  # the step's short name: (store, campaign_id, out, tlp=...)


@contextmanager
def _store() -> Iterator[IntelStore]:
    store = open_store()
    try:
        yield store
    finally:
        store.close()


def _viewer(store: IntelStore, org: str | None) -> Viewer:
    if not org:
        return OPERATOR
    with store.read_session() as s:
        o = get_org_by_name(s, org)
        return Viewer(o.id, o.name)


def import_and_link(
    path: Path,
    *,
    mapping: dict[str, str] | None = None,
    org: str | None = None,
    keep_unverified: bool = False,
    link: bool = True,
) -> dict[str, Any]:
    with _store() as store:
        rep = import_complaints(path, mapping=mapping, org=org, keep_unverified=keep_unverified,
                                store=store)  # fmt: skip
        out: dict[str, Any] = {"import": rep.to_dict()}
        if link and rep.imported:
            out["link"] = link_campaigns(store).to_dict()
    return out


def relink(*, method: str = "haircut", hops: int = 10, trace: bool = True) -> dict[str, Any]:
    with _store() as store:
        return link_campaigns(store, params=TraceParams(method, hops), trace=trace).to_dict()


def campaigns_list(org: str | None = None) -> list[dict[str, Any]]:
    with _store() as store:
        viewer = _viewer(store, org)
        with store.read_session() as s:
            return [v.summary() for v in list_campaigns(s, viewer)]


def campaign_show(campaign_id: str, org: str | None = None) -> dict[str, Any]:
    with _store() as store:
        viewer = _viewer(store, org)
        with store.read_session() as s:
            return get_campaign(s, campaign_id, viewer).to_dict()


def campaign_trace(
    campaign_id: str, *, method: str = "haircut", hops: int = 10, org: str | None = None
) -> dict[str, Any]:
    with _store() as store:
        viewer = _viewer(store, org)
        return trace_campaign(
            store, campaign_id, params=TraceParams(method, hops), viewer=viewer
        ).to_dict()


def campaign_report(
    campaign_id: str,
    out: Path,
    *,
    tlp: str = "amber",
    method: str = "haircut",
    hops: int = 10,
    org: str | None = None,
) -> dict[str, Any]:
    with _store() as store:
        viewer = _viewer(store, org)
        files = write_campaign_report(
            store, campaign_id, out, tlp=tlp, params=TraceParams(method, hops), viewer=viewer
        )
        with store.read_session() as s:
            view = get_campaign(s, campaign_id, viewer)
    freeze = [json.loads(p.read_text()) for p in files if p.name.startswith("freeze-request-")
              and p.suffix == ".json"]  # fmt: skip
    return {
        "campaign": view.id,
        "case_reference": view.case_reference,
        "total_loss": view.total_loss,
        "out": str(out),
        "files": [p.name for p in files],
        "freeze_requests": {f["exchange"]: f["totals"] for f in freeze},
    }


def campaign_share(campaign_id: str, orgs: list[str], owner: str | None = None) -> dict[str, Any]:
    with _store() as store, store.session() as s:
        view = get_campaign(s, campaign_id)
        case = open_case(s, view.id, owner=owner, share_with=orgs)
        return {"campaign": view.id, "case_reference": case.reference, "orgs": orgs}
