"""The investigation steps as service functions over the configured stores.

Each opens the intel store, does one job and returns plain data (what the CLI
prints with ``--json``). The steps themselves live in their modules and take an
open store: ``intake.import_complaints``, ``relink.link_campaigns``,
``casefile.trace_campaign``, ``casefile.write_campaign_report``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fundtrail.cases.campaigns import get_campaign, list_campaigns, read_campaign
from fundtrail.cases.casefile import trace_campaign, write_campaign_report
from fundtrail.cases.cashouts import refresh_cashouts
from fundtrail.cases.intake import import_complaints
from fundtrail.cases.relink import link_campaigns, relink_if_stale
from fundtrail.cases.tracing import TraceParams
from fundtrail.errors import InvalidInputError
from fundtrail.intelstore.db import IntelStore, open_store
from fundtrail.intelstore.orgs import org_identity
from fundtrail.model.identity import Identity

__all__ = [
    "campaign_freeze",
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
def _store(current: bool = True) -> Iterator[IntelStore]:
    """The intel store; with ``current``, campaigns relinked first if their inputs moved."""
    store = open_store()
    try:
        if current:
            _say(relink_if_stale(store))
        yield store
    finally:
        store.close()


def _say(*notes: str | None) -> None:
    for note in notes:
        if note:
            print(note, file=sys.stderr)  # the command says what it had to bring up to date


def _current_cashouts(store: IntelStore, ids: list[str] | None = None) -> None:
    _say(*refresh_cashouts(store, ids))


def _viewer(store: IntelStore, org: str | None, operator: bool = False) -> Identity:
    """The CLI's reader: a named org, or the workspace operator when asked for by name.

    Nobody is the operator by default: a command that reads victims' data says whose
    rights it reads with.
    """
    if org and operator:
        raise InvalidInputError("give --org NAME or --operator, not both", field="org")
    if operator:
        return Identity.operator()
    if not org:
        raise InvalidInputError(
            "say whose rights to read with: --org NAME, or --operator (the workspace "
            "operator, who holds the key file and may read every victim's data; audited)",
            field="org",
        )
    with store.read_session() as s:
        return org_identity(s, org)


def import_and_link(
    path: Path,
    *,
    mapping: dict[str, str] | None = None,
    org: str | None = None,
    keep_unverified: bool = False,
    link: bool = True,
) -> dict[str, Any]:
    with _store(current=False) as store:
        rep = import_complaints(path, mapping=mapping, org=org, keep_unverified=keep_unverified,
                                store=store)  # fmt: skip
        out: dict[str, Any] = {"import": rep.to_dict()}
        if link and rep.imported:
            out["link"] = link_campaigns(store).to_dict()
    return out


def relink(*, method: str = "haircut", hops: int = 10, trace: bool = True) -> dict[str, Any]:
    with _store(current=False) as store:
        out = link_campaigns(store).to_dict()
        if trace:
            out["notes"] += refresh_cashouts(store, params=TraceParams(method, hops))
        return out


def campaigns_list(org: str | None = None, *, operator: bool = False) -> list[dict[str, Any]]:
    with _store() as store:
        viewer = _viewer(store, org, operator)
        _current_cashouts(store)
        with store.read_session() as s:
            return [v.summary() for v in list_campaigns(s, viewer)]


def campaign_show(
    campaign_id: str, org: str | None = None, *, operator: bool = False
) -> dict[str, Any]:
    with _store() as store:
        viewer = _viewer(store, org, operator)
        with store.read_session() as s:
            cid = get_campaign(s, campaign_id, viewer).id
        _current_cashouts(store, [cid])
        return read_campaign(store, cid, viewer).to_dict()


def campaign_trace(
    campaign_id: str,
    *,
    method: str = "haircut",
    hops: int = 10,
    org: str | None = None,
    operator: bool = False,
) -> dict[str, Any]:
    with _store() as store:
        viewer = _viewer(store, org, operator)
        return trace_campaign(
            store, campaign_id, params=TraceParams(method, hops), viewer=viewer
        ).to_dict()


def campaign_freeze(
    campaign_id: str,
    *,
    method: str = "haircut",
    hops: int = 10,
    org: str | None = None,
    operator: bool = False,
) -> dict[str, Any]:
    """`fundtrail campaign freeze`: the freeze plan (requests, evidence, what was left out)."""
    from fundtrail.cases.freezing import campaign_freeze as plan

    with _store() as store:
        viewer = _viewer(store, org, operator)
        _traced, freeze = plan(store, campaign_id, viewer=viewer, params=TraceParams(method, hops))
        return freeze.to_dict()


def campaign_report(
    campaign_id: str,
    out: Path,
    *,
    tlp: str = "amber",
    method: str = "haircut",
    hops: int = 10,
    org: str | None = None,
    operator: bool = False,
    profile: dict[str, Any] | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    with _store() as store:
        viewer = _viewer(store, org, operator)
        files = write_campaign_report(
            store, campaign_id, out, tlp=tlp, params=TraceParams(method, hops), viewer=viewer,
            profile=profile, progress=progress,
        )  # fmt: skip
        with store.read_session() as s:
            view = get_campaign(s, campaign_id, viewer)
    freeze = [json.loads(p.read_text()) for p in files if p.name.startswith("freeze-request-")
              and p.suffix == ".json"]  # fmt: skip
    return {
        "campaign": view.id,
        "case_reference": view.case_reference,
        "total_loss": view.total_loss,
        "out": str(files[0].parent if files else out),
        "version": files[0].parent.name if files else None,
        "files": [p.name for p in files],
        "freeze_requests": {f["exchange"]: f["totals"] for f in freeze},
    }


def campaign_accept(
    campaign_id: str, complaint_ids: list[str], org: str | None = None, *, operator: bool = False
) -> dict[str, Any]:
    """Accept complaints pending in a case's campaign into the case, as its lead (or the
    operator): from then on they count in its totals, cash-outs and case files."""
    from fundtrail.cases.campaigns import open_case
    from fundtrail.errors import NotFoundError
    from fundtrail.intelstore.cases import Case

    with _store() as store:
        who = _viewer(store, org, operator)
        with store.session() as s:
            view = get_campaign(s, campaign_id, who)
            if s.query(Case).filter(Case.campaign_id == view.id).first() is None:
                raise NotFoundError(
                    f"campaign {view.id} has no case: open one first (campaign share)",
                    field="campaign",
                )
            case = open_case(s, view.id, accept=complaint_ids, actor=who)
            reference = case.reference
        with store.read_session() as s:
            after = get_campaign(s, view.id, who)
    return {
        "campaign": after.id,
        "case_reference": reference,
        "accepted": sorted(set(complaint_ids)),
        "pending": [c.id for c in after.pending],
        "complaints": len(after.complaints),
        "total_loss": after.total_loss,
    }


def campaign_share(
    campaign_id: str,
    orgs: list[str],
    owner: str | None = None,
    *,
    operator: bool = False,
    category: str = "scam",
) -> dict[str, Any]:
    """Put orgs on the campaign's case, as its (law-enforcement) lead or the operator,
    and share the campaign's addresses with them (:mod:`fundtrail.cases.sharing`)."""
    from fundtrail.cases.sharing import share_campaign

    with _store() as store:
        who = _viewer(store, owner, operator)
        return share_campaign(
            store, campaign_id, orgs, who=who, owner=owner, category=category
        ).to_dict()
