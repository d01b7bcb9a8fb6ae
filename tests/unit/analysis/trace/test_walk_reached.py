"""A walk's state is written only where it went: ``Walk.reached`` lists those outputs.

The kernel's per-output arrays span the chain but are read only at the reached outputs
(their other pages are never written, so a trace near a few complaints stays small on a
big chain). This checks the list is complete: every output the walk gave a status or
taint is in it, the starts have hop 0 and no source, and every other reached output's
source is a reached output too.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fundtrail.analysis.trace.graph import utxo_graph
from fundtrail.analysis.trace.testing import UtxoChain
from fundtrail.analysis.trace.walk import FAR, HAIRCUT, POISON, walk_kernel
from fundtrail.chainstore.store import ChainStore


def _peels(home: Path) -> None:
    c = UtxoChain()
    c.tx("c0", [], [("G", 60000)])
    c.tx("c1", [], [("C", 10000)])
    c.tx("m", [("c0", 0)], [("M", 59900)])
    prev, rest = ("m", 0), 59900
    for k in range(1, 5):
        rest -= 5100
        c.tx(f"p{k}", [prev], [(f"X{k}", 5000), (f"R{k}", rest)])
        prev = (f"p{k}", 1)
    c.tx("mix", [("p4", 0), ("c1", 0)], [("Y", 14900)])
    c.tx("other", [("c1", 0)], [("Z", 9000)])  # never reached from G
    c.commit(home)


@pytest.mark.parametrize("method", [POISON, HAIRCUT])
@pytest.mark.parametrize("forward", [True, False])
def test_reached_lists_every_output_the_walk_wrote(home: Path, method: int, forward: bool) -> None:
    _peels(home)
    g = utxo_graph(ChainStore("btc", home))
    start = np.array([int(g.out_ptr[2])] if forward else [len(g.out_val) - 2], dtype=np.int64)
    stop = np.zeros(len(g.addr_cluster), dtype=bool)
    w = walk_kernel(g.kernel_arrays(), g.addr_cluster, stop, start, g.out_val[start],
                    method, forward, 10, FAR if forward else -FAR)  # fmt: skip
    written = np.flatnonzero((w.status != 0) | (w.taint != 0))
    assert len(written) > 3
    assert np.array_equal(w.reached, written)
    assert w.hop[start].tolist() == [0] and w.src[start].tolist() == [-1]
    others = np.setdiff1d(w.reached, start)
    assert np.isin(w.src[others], w.reached).all()
    assert (w.hop[others] >= 0).all()
