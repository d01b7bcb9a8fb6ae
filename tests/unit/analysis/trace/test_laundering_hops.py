"""How gangs launder, and how many hops the tracer and the screening count for it.

A ransomware gang takes one address per victim, merges its takings in rounds into fresh
addresses, then peels them off to exchange deposits, now and then two in one hop. The
rounds and the remainder stay the gang's: every deposit is one hop away, so a screening
index built three hops deep finds them all (with the rounds and the three-output hop
counted as hops, the last deposits were four and five hops out and screened clean).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fundtrail.analysis.trace import graphfiles
from fundtrail.analysis.trace.exposure import indirect_exposure
from fundtrail.analysis.trace.graph import ARRAYS, utxo_graph
from fundtrail.analysis.trace.request import TraceRequest
from fundtrail.analysis.trace.service import trace
from fundtrail.analysis.trace.testing import UtxoChain, txid_of
from fundtrail.chainstore.store import ChainStore

DEPOSITS = ("X1", "X2", "X3", "X4")


def rounds_world(home: Path, *, reused: bool = False) -> UtxoChain:
    """Four victims pay R1..R4; two rounds of consolidation; a peel chain to deposits.

    v1..v4: coinbase -> Rk 1000                   (the addresses the victims reported)
    m1: R1, R2 -> C1 1990;  m2: R3, R4 -> C2 1990 (round one, fresh addresses; fee 10)
    m3: C1, C2 -> D 3970                          (round two; ``reused``: D was paid before)
    p1: D -> X1 300, P1 3370, X2 200              (two peels, the remainder in the middle)
    p2: P1 -> X3 400, P2 2870                     (fee 100 each)
    p3: P2 -> X4 2860                             (the rest paid whole; fee 10)
    """
    c = UtxoChain()
    if reused:
        c.tx("d0", [], [("D", 5000)])
    for k in range(1, 5):
        c.tx(f"v{k}", [], [(f"R{k}", 1000)])
    c.tx("m1", [("v1", 0), ("v2", 0)], [("C1", 1990)])
    c.tx("m2", [("v3", 0), ("v4", 0)], [("C2", 1990)])
    c.tx("m3", [("m1", 0), ("m2", 0)], [("D", 3970)])
    c.tx("p1", [("m3", 0)], [("X1", 300), ("P1", 3370), ("X2", 200)])
    c.tx("p2", [("p1", 1)], [("X3", 400), ("P2", 2870)])
    c.tx("p3", [("p2", 1)], [("X4", 2860)])
    c.commit(home)
    return c


def _exposure(c: UtxoChain, home: Path, hops: int = 3) -> dict[str, tuple[float, int]]:
    ids = c.labels.ids
    seeds = [ids[f"R{k}"] for k in range(1, 5)]
    found = indirect_exposure(ChainStore("btc", home), seeds, hops=hops, home=home)
    name = {v: k for k, v in ids.items()}
    return {
        name[int(a)]: (float(s), int(h))
        for a, s, h in zip(found.address, found.share, found.hops, strict=True)
    }


def test_every_deposit_after_rounds_and_a_two_peel_hop_is_one_hop_away(home: Path) -> None:
    got = _exposure(rounds_world(home), home)
    for x in DEPOSITS:
        assert got[x] == (pytest.approx(1.0), 1), x


@pytest.mark.parametrize("method", ["haircut", "fifo"])
def test_the_tracer_counts_the_same_hops(home: Path, method: str) -> None:
    """A one-hop trace from the victims' payments reaches every deposit, whole: 300, 200,
    400 and 2860 of the 4000 paid (the rest went to fees), by haircut and by FIFO."""
    c = rounds_world(home)
    starts = [txid_of(f"v{k}") + ":0" for k in range(1, 5)]
    r = trace(TraceRequest.parse("btc", starts, method=method, hops=1))
    got = {e.address: (e.amount, e.hops) for e in r.endpoints}
    assert got == {c.address("X1"): (300, 1), c.address("X2"): (200, 1),
                   c.address("X3"): (400, 1), c.address("X4"): (2860, 1)}  # fmt: skip


def test_merging_into_an_address_paid_before_is_a_hop(home: Path) -> None:
    """D had coins of its own before m3: D may be someone else's, so the deposits are two
    hops away (the rounds before D still count none)."""
    got = _exposure(rounds_world(home, reused=True), home)
    assert got["C1"][1] == 1 and got["D"][1] == 1  # C1: no hop, shown as the first
    assert [got[x][1] for x in DEPOSITS] == [2, 2, 2, 2]
    assert got["D"][0] == pytest.approx(3970 / 8970)


def test_fresh_marks_the_first_output_paid_to_each_address(home: Path) -> None:
    c = rounds_world(home, reused=True)
    g = utxo_graph(ChainStore("btc", home))
    d = c.labels.ids["D"]
    paid_d = np.flatnonzero(np.asarray(g.out_addr) == d)
    assert np.asarray(g.out_fresh)[paid_d].tolist() == [True, False]  # d0 first, m3 again
    assert int(np.asarray(g.out_fresh).sum()) == len(c.labels.ids)


def test_arrays_written_by_older_code_are_rebuilt(home: Path) -> None:
    """A folder of this version without the fresh flags (written before they existed) is
    not read: the next reader builds the arrays again, beside it."""
    rounds_world(home)
    store = ChainStore("btc", home)
    folder = graphfiles.folder_for(store)
    utxo_graph(store)
    (folder / "out_fresh.npy").unlink()
    (folder / "done").write_text(",".join(k for k in ARRAYS if k != "out_fresh"))
    assert graphfiles.load(folder, ARRAYS) is None
    rebuilt = graphfiles.load(graphfiles.build(store, ARRAYS), ARRAYS)
    assert rebuilt is not None and bool(rebuilt["out_fresh"].all())
