"""MISP feeds: folders and URLs; internal targets refused; nothing stored half-way."""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from fundtrail.errors import InvalidInputError, SourceError
from fundtrail.intel.indicators import IndicatorService
from fundtrail.intel.misp import read_misp
from fundtrail.intel.misp_feed import (
    fetch_misp_feed,
    import_misp_feed,
    read_misp_feed,
    write_misp_feed,
)
from fundtrail.intel.records import IndicatorRecord
from fundtrail.intelstore.db import IntelStore, open_store
from fundtrail.intelstore.indicators import IndicatorQuery
from fundtrail.intelstore.orgs import add_org, org_identity
from fundtrail.model.tlp import TLP

RECORDS = [
    IndicatorRecord.build(
        "crypto-address", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", "ransomware", chain="BTC", tlp="red"
    ),
    IndicatorRecord.build(
        "crypto-address",
        "0x8589427373D6D84E98730D7795D8f6f8731FDA16",
        "sanctions",
        chain="ETH",
        tlp="clear",
    ),
    IndicatorRecord.build("domain", "evil.example", "phishing", tlp="amber"),
    IndicatorRecord.build("ip", "198.51.100.7", "scam", tlp="green"),
]


@pytest.fixture
def feed(tmp_path: Path) -> Path:
    folder = tmp_path / "feed"
    write_misp_feed(RECORDS, folder)
    return folder


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


class _Redirect(_Quiet):
    def do_GET(self) -> None:
        self.send_response(302)
        self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
        self.end_headers()


def _serve(handler: type, folder: Path) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def server(feed: Path) -> Iterator[str]:
    yield from _serve(_Quiet, feed)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[IntelStore]:
    st = open_store(f"sqlite:///{tmp_path / 'intel.sqlite'}")
    with st.session() as s:
        add_org(s, "cert", "research")
    yield st
    st.close()


def stored(store: IntelStore) -> int:
    with store.read_session() as s:
        who = org_identity(s, "cert")
    return IndicatorService(store).count(who, IndicatorQuery())


def test_feed_folder_has_manifest_events_and_hashes(feed: Path) -> None:
    manifest = json.loads((feed / "manifest.json").read_text())
    assert len(manifest) == 4  # one event per TLP level
    assert {t["name"] for m in manifest.values() for t in m["Tag"]} == {
        "tlp:red",
        "tlp:clear",
        "tlp:amber",
        "tlp:green",
    }
    assert len((feed / "hashes.csv").read_text().splitlines()) == 4
    back = {r.value: r.tlp for r in read_misp_feed(feed).records}
    assert back == {r.value: r.tlp for r in RECORDS}
    assert len(read_misp(feed).records) == 4  # the --format misp reader takes a feed folder


def test_manifest_keys_must_be_uuids(feed: Path) -> None:
    (feed / "manifest.json").write_text(json.dumps({"../../etc/passwd": {}}))
    with pytest.raises(InvalidInputError, match="not an event UUID"):
        read_misp_feed(feed)


def test_missing_event_file_is_refused(feed: Path) -> None:
    next(feed.glob("*-*.json")).unlink()
    with pytest.raises(InvalidInputError, match="missing"):
        read_misp_feed(feed)


def test_fetch_from_an_explicitly_allowed_test_server(server: str) -> None:
    got = fetch_misp_feed(f"http://{server}/", allow_hosts=[server])
    assert got.events == 4 and len(got.records) == 4


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("file:///etc/passwd", "http\\(s\\) URL, not 'file'"),
        ("ftp://feeds.example/", "http\\(s\\) URL"),
        ("http://127.0.0.1:9/", "loopback, link-local or private"),
        ("http://localhost/feed/", "loopback, link-local or private"),
        ("http://[::1]/", "loopback, link-local or private"),
        ("http://169.254.169.254/latest/meta-data/", "loopback, link-local or private"),
        ("http://10.20.30.40/feed/", "loopback, link-local or private"),
        ("http://192.168.1.1/", "loopback, link-local or private"),
    ],
)
def test_internal_and_non_http_feed_urls_are_refused(url: str, why: str) -> None:
    with pytest.raises(InvalidInputError, match=why):
        fetch_misp_feed(url)


def test_loopback_server_is_refused_unless_allowed(server: str) -> None:
    with pytest.raises(InvalidInputError, match="loopback"):
        fetch_misp_feed(f"http://{server}/")


def test_redirects_are_not_followed(feed: Path) -> None:
    for host in _serve(_Redirect, feed):
        with pytest.raises(SourceError, match="redirect"):
            fetch_misp_feed(f"http://{host}/", allow_hosts=[host])


def test_import_stores_a_whole_feed(store: IntelStore, server: str) -> None:
    out = import_misp_feed(f"http://{server}/", org="cert", allow_hosts=[server], store=store)
    assert out["added"] == 4 and stored(store) == 4


def test_a_broken_event_stores_nothing(store: IntelStore, feed: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(feed, broken)
    victim = sorted(broken.glob("*-*.json"))[-1]
    doc = json.loads(victim.read_text())
    doc["Event"]["Tag"].append({"name": "tlp:pink"})
    victim.write_text(json.dumps(doc))
    for host in _serve(_Quiet, broken):
        with pytest.raises(InvalidInputError, match="tlp:pink"):
            import_misp_feed(f"http://{host}/", org="cert", allow_hosts=[host], store=store)
    assert stored(store) == 0


def test_tlp_option_never_loosens(store: IntelStore, feed: Path) -> None:
    import_misp_feed(str(feed), org="cert", tlp=TLP.AMBER, store=store)
    with store.read_session() as s:
        who = org_identity(s, "cert")
    levels = {r.value: r.tlp for r in IndicatorService(store).export(who)}
    assert levels["1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"] is TLP.RED
    assert levels["198.51.100.7"] is TLP.AMBER
