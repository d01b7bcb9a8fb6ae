"""MISP feeds: a folder (or web root) of ``manifest.json`` plus one ``<uuid>.json`` per event.

Fetching a partner's feed URL is an outbound call the partner chooses, so the URL is
checked before anything is sent: http(s) only, and every address its host resolves to
must be public (no loopback, link-local or private targets), unless the operator
explicitly allows that host (a test server, an internal MISP). Redirects are not
followed (a redirect could point inside). Every event is fetched and parsed before
the caller stores anything, so a failure halfway stores nothing.
"""

from __future__ import annotations

import csv
import hashlib
import json
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from fundtrail.errors import InvalidInputError, SourceError
from fundtrail.intel.misp import MispImport, parse_misp
from fundtrail.intel.misp_export import iter_by_tlp, to_misp_event
from fundtrail.intel.records import IndicatorRecord
from fundtrail.model.tlp import TLP
from fundtrail.netguard import check_outbound_url

__all__ = ["feed_event_files", "fetch_misp_feed", "read_misp_feed", "write_misp_feed"]

MAX_FEED_BYTES = 50 * 1024 * 1024  # per file
MAX_EVENTS = 10_000


def _event_ids(manifest: Any, where: str) -> list[str]:
    """Event UUIDs of a manifest, validated (they become file names and URL paths)."""
    if not isinstance(manifest, dict):
        raise InvalidInputError(
            f"{where}: manifest.json must map event UUIDs to event summaries", field="manifest"
        )
    if len(manifest) > MAX_EVENTS:
        raise InvalidInputError(f"{where}: more than {MAX_EVENTS} events", field="manifest")
    ids: list[str] = []
    for key in manifest:
        try:
            ids.append(str(uuid.UUID(str(key))))
        except ValueError:
            raise InvalidInputError(
                f"{where}: manifest key {str(key)[:60]!r} is not an event UUID", field="manifest"
            ) from None
    return sorted(ids)


def feed_event_files(folder: Path) -> list[Path]:
    """The event files a feed folder's manifest lists (each must exist)."""
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        raise InvalidInputError(f"{folder} has no manifest.json: not a MISP feed", field="file")
    try:
        manifest = json.loads(manifest_path.read_bytes())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{manifest_path}: not valid JSON ({exc})", field="file") from exc
    files = [folder / f"{eid}.json" for eid in _event_ids(manifest, str(manifest_path))]
    missing = [f.name for f in files if not f.is_file()]
    if missing:
        raise InvalidInputError(
            f"{folder}: manifest lists {len(missing)} event file(s) that are missing, "
            f"e.g. {missing[0]}",
            field="file",
        )
    return files


def read_misp_feed(folder: Path, *, default_tlp: TLP = TLP.AMBER) -> MispImport:
    """Every event of a local feed folder, merged into one import."""
    total = MispImport()
    for file in feed_event_files(folder):
        _merge(
            total,
            parse_misp(file.read_bytes(), default_tlp=default_tlp, source=f"misp-feed:{file.name}"),
        )
    return total


def _merge(total: MispImport, part: MispImport) -> None:
    total.records += part.records
    total.skipped.update(part.skipped)
    total.problems += part.problems[: max(0, 20 - len(total.problems))]
    total.events += part.events


def _guard(url: str, allow_hosts: Iterable[str]) -> str:
    parts = urlsplit(url.strip())
    netloc = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
    allowed = netloc in set(allow_hosts) or (parts.hostname or "") in set(allow_hosts)
    return check_outbound_url(url, allow_private=allowed, field="feed URL")


def _get(client: Any, url: str, allow_hosts: Iterable[str]) -> bytes:
    import httpx

    _guard(url, allow_hosts)
    try:
        with client.stream("GET", url) as resp:
            if resp.is_redirect:
                raise SourceError(
                    f"{url}: answered a redirect ({resp.status_code}); redirects are not followed"
                )
            if resp.status_code != 200:
                raise SourceError(f"{url}: HTTP {resp.status_code}")
            body = bytearray()
            for chunk in resp.iter_bytes():
                body += chunk
                if len(body) > MAX_FEED_BYTES:
                    raise SourceError(f"{url}: more than {MAX_FEED_BYTES} bytes; refused")
            return bytes(body)
    except httpx.HTTPError as exc:
        raise SourceError(f"{url}: {type(exc).__name__}: {exc}") from exc


def fetch_misp_feed(
    url: str,
    *,
    allow_hosts: Iterable[str] = (),
    timeout: float = 30.0,
    default_tlp: TLP = TLP.AMBER,
) -> MispImport:
    """Fetch and parse every event of the feed at ``url`` (its manifest.json's folder)."""
    import httpx

    hosts = list(allow_hosts)
    base = url if url.endswith("/") else url + "/"
    if base.endswith("/manifest.json/"):
        base = base[: -len("manifest.json/")]
    _guard(base, hosts)
    total = MispImport()
    with httpx.Client(timeout=timeout, follow_redirects=False) as client:
        manifest_url = urljoin(base, "manifest.json")
        try:
            manifest = json.loads(_get(client, manifest_url, hosts))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise SourceError(f"{manifest_url}: not valid JSON") from exc
        for eid in _event_ids(manifest, manifest_url):
            event_url = urljoin(base, f"{eid}.json")
            _merge(
                total,
                parse_misp(
                    _get(client, event_url, hosts),
                    default_tlp=default_tlp,
                    source=f"misp-feed:{urlsplit(base).hostname}",
                ),
            )
    return total


def write_misp_feed(
    records: Iterable[IndicatorRecord],
    folder: Path,
    *,
    now: datetime | None = None,
    info: str = "fundtrail",
) -> dict[str, int]:
    """Write a feed folder: one event per TLP level, manifest.json and hashes.csv."""
    clock = now or datetime.now(UTC)
    folder.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, Any] = {}
    hashes: list[tuple[str, str]] = []
    count = 0
    for level, group in iter_by_tlp(records):
        doc = to_misp_event(group, info=f"{info} TLP:{level.value.upper()}", now=clock, tlp=level)
        event = doc["Event"]
        (folder / f"{event['uuid']}.json").write_text(
            json.dumps(doc, indent=1, ensure_ascii=False), encoding="utf-8"
        )
        manifest[event["uuid"]] = {
            k: event[k]
            for k in ("info", "date", "timestamp", "analysis", "threat_level_id", "Orgc", "Tag")
        }
        hashes += [
            (hashlib.md5(r.value.encode(), usedforsecurity=False).hexdigest(), event["uuid"])
            for r in group
        ]
        count += len(group)
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    with (folder / "hashes.csv").open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(hashes)
    return {"events": len(manifest), "indicators": count}


def import_misp_feed(
    source: str,
    *,
    org: str,
    allow_hosts: Iterable[str] = (),
    tlp: TLP | None = None,
    store: Any = None,
) -> dict[str, Any]:
    """Fetch (URL) or read (folder) a whole feed, then store it as ``org``'s in one go."""
    from fundtrail.intel.indicators import IndicatorService
    from fundtrail.intelstore.db import open_store
    from fundtrail.intelstore.orgs import org_identity

    local = Path(source)
    if "://" not in source and local.is_dir():
        got = read_misp_feed(local, default_tlp=tlp or TLP.AMBER)
    else:
        got = fetch_misp_feed(source, allow_hosts=allow_hosts, default_tlp=tlp or TLP.AMBER)
    if tlp is not None:
        for rec in got.records:
            rec.tlp = max(rec.tlp, tlp, key=lambda t: t.rank)
    store = store or open_store()
    with store.session() as s:
        who = org_identity(s, org)
    summary = IndicatorService(store).import_records(who, got.records, source="misp-feed")
    return {
        "events": got.events,
        "added": summary.added,
        "updated": summary.updated,
        "skipped": dict(got.skipped),
        "problems": got.problems,
    }
