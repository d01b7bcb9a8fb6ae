"""The decision log: answered decisions are on disk, drained once, and survive kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import orjson
import pytest
import sqlalchemy as sa

from fundtrail.intelstore.audit import AuditEntry, verify
from fundtrail.intelstore.db import IntelStore, open_store
from fundtrail.intelstore.models import StoreMeta
from fundtrail.intelstore.orgs import add_org
from fundtrail.intelstore.screening import ScreenDecision
from fundtrail.screen.decisionlog import (
    COLUMNS,
    DecisionLog,
    decisions_folder,
    encode_request,
    read_frames,
)
from fundtrail.screen.drain import CHECKPOINT_PREFIX, drain_folder

ADDRESS = "12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9h"


@pytest.fixture
def intel(home: Path) -> IntelStore:
    store = open_store()
    with store.session() as s:
        add_org(s, "exchange", "exchange")
    return store


def _org_id(store: IntelStore) -> str:
    from fundtrail.intelstore.models import Org

    with store.read_session() as s:
        return str(s.scalars(sa.select(Org.id)).one())


def _request(org_id: str, n: int = 1, risk: str = "severe") -> tuple[bytes, list[str]]:
    ids = [str(uuid.uuid4()) for _ in range(n)]
    rows = [
        {
            "id": i,
            "org_id": org_id,
            "key_id": "key-1",
            "chain": "BTC",
            "address": ADDRESS,
            "direction": "deposit",
            "amount": "150000",
            "asset": "BTC",
            "txid": None,
            "risk": risk,
            "score": 100,
            "reasons": [{"category": "sanctions"}],
            "index_version": "v1",
            "created": time.time(),
        }
        for i in ids
    ]
    return encode_request(rows, org_id=org_id, key_id="key-1", remote="10.0.0.7"), ids


def _stored(store: IntelStore) -> list[str]:
    with store.read_session() as s:
        return list(s.scalars(sa.select(ScreenDecision.id)))


def test_a_committed_decision_is_on_disk_before_the_store_has_it(home: Path, intel) -> None:
    log = DecisionLog(home)
    payload, ids = _request(_org_id(intel))
    log.commit(payload)
    (segment,) = decisions_folder(home).glob("*.log")
    (frame,) = [p for _end, p in read_frames(segment.read_bytes())]
    assert ids[0].encode() in frame
    assert _stored(intel) == []  # not drained yet: the answer did not wait for the database
    assert drain_folder(home, intel) == 1  # the live writer's whole frames
    assert _stored(intel) == ids and segment.exists()
    log.close()
    assert drain_folder(home, intel) == 0
    assert list(decisions_folder(home).glob("*.log")) == []  # a finished segment is removed


def test_draining_twice_stores_once_and_audits_each_caller(home: Path, intel) -> None:
    log = DecisionLog(home)
    org = _org_id(intel)
    for _ in range(3):
        log.commit(_request(org, n=2)[0])
    drain_folder(home, intel)
    drain_folder(home, intel)
    log.close()
    drain_folder(home, intel)
    assert len(_stored(intel)) == 6
    with intel.read_session() as s:
        (row,) = s.scalars(sa.select(AuditEntry).where(AuditEntry.action == "screen")).all()
    assert row.actor == "key:key-1" and row.org_id == org
    assert row.details["requests"] == 3 and row.details["items"] == 6
    assert row.details["risky"] == 6 and row.remote == "10.0.0.7"
    assert verify(intel).ok


def test_a_segment_drained_before_a_crash_is_not_stored_again(home: Path, intel) -> None:
    """Killed after the drain committed but before the segment was deleted."""
    log = DecisionLog(home)
    log.commit(_request(_org_id(intel), n=3)[0])
    log.close()
    (segment,) = decisions_folder(home).glob("*.log")
    copy = segment.read_bytes()
    drain_folder(home, intel)
    segment.write_bytes(copy)  # the file came back: its checkpoint says it was drained
    with intel.session() as s:
        s.add(StoreMeta(key=CHECKPOINT_PREFIX + segment.stem, value=str(len(copy))))
    before = _audit_rows(intel)
    drain_folder(home, intel)
    assert len(_stored(intel)) == 3 and _audit_rows(intel) == before
    assert not segment.exists()


def _audit_rows(store: IntelStore) -> int:
    with store.read_session() as s:
        return int(s.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) or 0)


WRITER = """
import sys, time, uuid
from pathlib import Path
from fundtrail.intelstore.db import open_store
from fundtrail.screen.decisionlog import DecisionLog, encode_request
home, org, mode = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
log = DecisionLog(home, mode)
while True:
    i = str(uuid.uuid4())
    row = {"id": i, "org_id": org, "key_id": "k", "chain": "BTC", "address": "a",
           "direction": "deposit", "amount": None, "asset": None, "txid": None,
           "risk": "none", "score": 0, "reasons": [], "index_version": "v",
           "created": time.time()}
    log.commit(encode_request([row], org_id=org, key_id="k", remote=None))
    print(i, flush=True)  # acknowledged: the answer would go out now
"""


@pytest.mark.parametrize("mode", ["fsync", "write"])
def test_every_acknowledged_decision_survives_kill_9(home: Path, intel, mode: str) -> None:
    org = _org_id(intel)
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(home), org, mode],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert proc.stdout is not None
    acknowledged = [proc.stdout.readline().strip() for _ in range(200)]
    proc.send_signal(signal.SIGKILL)
    acknowledged += [line.strip() for line in proc.stdout if line.strip()]
    proc.wait()
    (segment,) = decisions_folder(home).glob("*.log")
    with open(segment, "ab") as fh:
        fh.write(b"FTD1\x40\x00\x00\x00torn")  # a frame cut by the crash: never answered
    drain_folder(home, intel)  # finds the dead writer's segment
    stored = set(_stored(intel))
    assert set(acknowledged) <= stored
    assert len(stored) == len(_stored(intel))  # each once
    assert not segment.exists()


def test_two_drainers_of_a_live_segment_store_each_decision_once(home: Path, intel) -> None:
    log = DecisionLog(home)
    org = _org_id(intel)
    log.commit(_request(org, n=2)[0])
    assert drain_folder(home, intel) == 2
    log.commit(_request(org, n=1)[0])
    other = open_store()  # another process's drainer, racing this one
    assert drain_folder(home, other) + drain_folder(home, intel) == 1
    log.close()
    assert len(_stored(intel)) == 3


def test_write_mode_answers_before_the_flush_and_the_flush_follows(home: Path, intel) -> None:
    log = DecisionLog(home, "write")
    payload, ids = _request(_org_id(intel), n=3)
    log.commit(payload)  # returns once the kernel has the frame
    (segment,) = decisions_folder(home).glob("*.log")
    assert ids[0].encode() in segment.read_bytes()
    deadline = time.monotonic() + 5
    while log.flush_lag and time.monotonic() < deadline:
        time.sleep(0.005)
    assert log.flush_lag == 0.0  # flushed by the flush thread, without another commit
    assert drain_folder(home, intel) == 3
    log.close()
    assert sorted(_stored(intel)) == sorted(ids)


def test_write_mode_stops_answering_while_the_disk_flush_fails(
    home: Path, intel, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fundtrail.screen import decisionlog
    from fundtrail.screen.decisionlog import DecisionLogError

    log = DecisionLog(home, "write")
    org = _org_id(intel)
    real = os.fdatasync
    failing = {"on": True}

    def fdatasync(fd: int) -> None:
        if failing["on"]:
            raise OSError(5, "Input/output error")
        real(fd)

    monkeypatch.setattr(decisionlog.os, "fdatasync", fdatasync)
    log.commit(_request(org)[0])  # written; its flush fails
    deadline = time.monotonic() + 5
    while log._sync_error is None and time.monotonic() < deadline:
        time.sleep(0.005)
    with pytest.raises(DecisionLogError, match="flush failed"):
        log.commit(_request(org)[0])
    failing["on"] = False  # the disk is back: the retry flushes, answers resume
    while log._sync_error is not None and time.monotonic() < deadline:
        time.sleep(0.005)
    log.commit(_request(org)[0])
    log.close()
    assert len(_stored(intel)) == 0 and drain_folder(home, intel) == 2


def test_a_column_frame_drains_to_the_same_rows_as_a_row_frame(
    intel: IntelStore, home: Path
) -> None:
    """The answer path writes columns; what the drainer stores is the same decision."""
    from fundtrail.screen.decisionlog import encode_columns, request_rows

    org_id = _org_id(intel)
    payload, (row_id,) = _request(org_id)
    (row,) = orjson.loads(payload)["rows"]
    columns = {c: [row[c]] for c in COLUMNS}
    as_columns = encode_columns(
        columns, org_id=org_id, key_id="key-1", remote="10.0.0.7", created=row["created"]
    )
    assert request_rows(orjson.loads(as_columns)) == [row]
    log = DecisionLog(home)
    log.commit(as_columns)
    log.close()
    assert drain_folder(home, intel) == 1 and _stored(intel) == [row_id]
    with intel.read_session() as s:
        stored = s.get(ScreenDecision, row_id)
        assert stored is not None
        assert (stored.address, stored.risk, stored.amount, stored.reasons) == (
            ADDRESS,
            "severe",
            "150000",
            [{"category": "sanctions"}],
        )
