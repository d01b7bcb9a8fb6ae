"""Vectorised address text equals the reference encoder and parses back to its script type."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from fundtrail.chains.simulate.btc.addrtext import encode_records
from fundtrail.chains.simulate.btc.script import Keyring, Kind, address_text, output_script
from fundtrail.model.addresses import parse_address

KINDS = {
    Kind.P2PKH: "p2pkh", Kind.P2SH_P2WPKH: "p2sh", Kind.P2WPKH: "p2wpkh", Kind.P2WSH: "p2wsh",
    Kind.P2TR: "p2tr",
}  # fmt: skip


def _records(kinds: list[int], seed: int) -> np.ndarray:
    keys = Keyring(seed)
    rec = np.zeros((len(kinds), 34), dtype=np.uint8)
    for i, kind in enumerate(kinds):
        prog = keys.program(i, kind)
        rec[i, 0], rec[i, 1] = kind, len(prog)
        rec[i, 2 : 2 + len(prog)] = np.frombuffer(prog, dtype=np.uint8)
    return rec


@settings(max_examples=30, deadline=None)
@given(st.lists(st.sampled_from(list(Kind)), min_size=1, max_size=40), st.integers(0, 2**32))
def test_batch_encoding_equals_one_by_one(kinds: list[int], seed: int) -> None:
    rec = _records(kinds, seed)
    texts = encode_records(rec)
    for i, kind in enumerate(kinds):
        prog = rec[i, 2 : 2 + rec[i, 1]].tobytes()
        assert texts[i] == address_text(kind, prog)
        assert parse_address(texts[i], "BTC").kind == KINDS[Kind(kind)]


def test_output_scripts_have_standard_shapes() -> None:
    keys = Keyring(1)
    sizes = {kind: len(output_script(kind, keys.program(7, kind))) for kind in Kind}
    assert sizes == {Kind.P2PKH: 25, Kind.P2SH_P2WPKH: 23, Kind.P2WPKH: 22, Kind.P2WSH: 34,
                     Kind.P2TR: 34}  # fmt: skip


def test_spend_data_fits_the_script_type() -> None:
    keys = Keyring(1)
    sig, wit = keys.spend(3, Kind.P2PKH)
    assert wit is None and 100 <= len(sig) <= 110
    sig, wit = keys.spend(3, Kind.P2TR)
    assert sig == b"" and wit is not None and [len(x) for x in wit] == [64]
    sig, wit = keys.spend(3, Kind.P2SH_P2WPKH)
    assert sig[:3] == b"\x16\x00\x14" and wit is not None and len(wit) == 2
    _, wit = keys.spend(3, Kind.P2WSH)
    assert wit is not None and wit[0] == b"" and wit[-1] == keys.multisig_script(3)
