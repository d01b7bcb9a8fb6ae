"""truth.json streaming: chunk boundaries and unused addresses do not change the result."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from fundtrail.chains.simulate import truth as truth_mod
from fundtrail.chains.simulate.registry import Registry
from fundtrail.chains.simulate.truth import Cashout, Complaint, Tag, Truth, TruthWriter


def _hex(records: np.ndarray) -> list[str]:
    return ["0x" + bytes(r[2:22]).hex() for r in np.asarray(records)]


def _world(tmp_path: Path) -> tuple[Registry, Truth, dict[int, str]]:
    reg = Registry(tmp_path / "scratch", lambda a, k: a.to_bytes(20, "big"))
    ents = [reg.add_entity(kind, f"{kind} {i}") for i, kind in
            enumerate(["exchange", "user", "scam", "victim", "user", "exchange"])]  # fmt: skip
    owner_of = [0, 1, 0, 2, 4, 2, 0, 5, 1, 0, 2, 0, 4, 4, 0, 5, 2, 0]  # interleaved owners
    texts = {}
    for i, e in enumerate(owner_of):
        addr = reg.new_address(ents[e], "deposit" if e in (0, 5) else "receive")
        if i % 5 != 3:  # every fifth address is never paid: it must stay out of the truth
            reg.used[addr] = 1
            texts[addr] = "0x" + addr.to_bytes(20, "big").hex()
    t = Truth("investment-scam", 1, "ETH", 1_704_067_200)
    camp = t.campaign("investment-scam", ents[2])
    camp.collection_addresses = [5]
    t.add_complaint(camp, ents[3], Complaint("C-1", "Anna Adler", 1_704_100_000, "ETH",
                                             "0xab", 2, 5, 500, "USDT"))  # fmt: skip
    t.cashouts.append(Cashout(camp.id, ents[0], 0, 400, "USDT", "0xcd", None, 1_704_200_000))
    t.tags.append(Tag(0, "exchange 0"))
    return reg, t, texts


@pytest.mark.parametrize("chunk", [1, 3, 7, 65536])
def test_streamed_truth_equals_the_naive_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    monkeypatch.setattr(truth_mod, "_CHUNK", chunk)
    reg, t, texts = _world(tmp_path)
    TruthWriter(reg, _hex, "ETH").write_all(t, tmp_path)
    doc = json.loads((tmp_path / "truth.json").read_text())
    assert list(doc) == ["scenario", "seed", "chain", "start_time", "entities", "addresses",
                         "clusters", "coinjoin_txids", "campaigns", "cashouts"]  # fmt: skip
    expected = {
        e.id: [texts[a] for a in sorted(texts) if reg.entity_of[a] == i]
        for i, e in enumerate(reg.entities)
    }
    assert {e["id"]: e["addresses"] for e in doc["entities"]} == expected
    assert doc["clusters"] == [v for v in expected.values() if len(v) > 1]
    assert list(doc["addresses"]) == [texts[a] for a in sorted(texts)]
    assert doc["addresses"][texts[0]] == {"entity": "exchange-1", "role": "deposit"}
    (camp,) = doc["campaigns"]
    assert camp["victims"] == 1 and camp["total_loss"] == {"USDT": 500}
    assert doc["cashouts"][0]["exchange_name"] == "exchange 0"
    assert doc["cashouts"][0]["time"] == "2024-01-02T12:53:20Z"
    rows = (tmp_path / "complaints.csv").read_text().splitlines()
    assert rows[0].endswith(",asset,perpetrator_email,perpetrator_site,perpetrator_phone,"
                            "perpetrator_handle")  # fmt: skip
    assert rows[1].startswith(
        f"C-1,Anna Adler,2024-01-01T09:06:40Z,ETH,0xab,2,{texts[5]},500,USDT,"
    )
