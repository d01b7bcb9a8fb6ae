"""The offline checks of recorded TRON blocks (tests/data/tron, see its MANIFEST): a whole
mainnet block (79072107, gRPC bytes) and 100 consecutive mainnet headers; each check must
also fail, naming what differs, when one byte of the recording is changed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fundtrail.chains.tron import verify, wire
from fundtrail.errors import SourceError
from fundtrail.model.encoding import b58check_encode

DATA = Path(__file__).resolve().parents[3] / "data" / "tron"


def _block() -> dict[str, Any]:
    return json.loads((DATA / "blockext_79072107.json").read_text())


def _extension() -> bytes:
    return bytes.fromhex(_block()["blockExtention"].removeprefix("0x"))


def _headers() -> dict[str, Any]:
    return json.loads((DATA / "headers_78000000_78000099.json").read_text())


def test_the_recorded_block_is_the_mainnet_block_it_says() -> None:
    rec = _block()
    check = verify.check_extension(_extension())
    assert check.number == int(rec["blockNumber"]) == 79072107
    assert check.block_id == "0000000004b68b6be6d7223b1ecf2850f00f700292beeead2810c18e9e1548e2"
    assert len(check.txids) == 619  # and their Merkle root is the header's txTrieRoot
    # the transaction the recording was made for sits where the recorder said
    assert check.txids[rec["expectedTxIndex"]] == rec["txId"].removeprefix("0x")
    # produced and signed by the witness the header names
    assert check.witness == check.signer == "TTMNxTmRpBZnjtUnohX84j25NLkTqDga7j"


def test_the_http_form_of_the_block_checks_the_same() -> None:
    answer = wire.block_answer(_extension())
    check = verify.check_answer(answer)
    assert check.block_id == answer["blockID"] == verify.check_extension(_extension()).block_id
    assert check.txids == tuple(t["txID"] for t in answer["transactions"])


def test_a_changed_byte_is_found_and_named() -> None:
    ext = _extension()
    answer = wire.block_answer(ext)
    # an amount edited in a transfer: its id no longer matches
    tx = next(t for t in answer["transactions"] if t["raw_data"]["contract"][0]["type"]
              == "TransferContract")  # fmt: skip
    tx["raw_data_hex"] = tx["raw_data_hex"][:-2] + (
        "00" if tx["raw_data_hex"][-2:] != "00" else "01"
    )
    with pytest.raises(SourceError, match=f"claims id {tx['txID']}"):
        verify.check_answer(answer)
    # a header field edited: the block id says so
    answer = wire.block_answer(ext)
    answer["block_header"]["raw_data"]["timestamp"] += 3000
    with pytest.raises(SourceError, match="block 79072107: id 0000000004b68b6b"):
        verify.check_answer(answer)
    # a transaction dropped from the block: the Merkle root no longer matches
    top = wire.read(ext)
    kept = b"".join(_field(1, t) for t in wire.all_bytes(top, 1)[:-1])
    cut = kept + _field(2, wire.one_bytes(top, 2)) + _field(3, wire.one_bytes(top, 3))
    with pytest.raises(SourceError, match=r"is not the Merkle root \w+ of its 618 transactions"):
        verify.check_extension(cut)


def test_a_hundred_mainnet_headers_link_and_are_signed_by_their_witness_keys() -> None:
    rec = _headers()
    parent = None
    own = delegated = 0
    for i, raw_hex in enumerate(rec["blockHeaderRawBytes"]):
        raw = bytes.fromhex(raw_hex.removeprefix("0x"))
        sig = bytes.fromhex(rec["witnessSignatures"][i].removeprefix("0x"))
        check = verify.check_header(raw, sig, rec["blockIds"][i])
        assert check.number == int(rec["blockNumbers"][i]) == 78000000 + i
        if parent is not None:
            assert wire.one_bytes(wire.read(raw), 3).hex() == parent
        parent = check.block_id
        # the recorder listed, per super representative, the key that signs for it
        sr = int(rec["witnessIndices"][i])
        key = b58check_encode(bytes.fromhex("41" + rec["witnessDelegatees"][sr].removeprefix("0x")))
        assert check.signer == key
        own += check.signer == check.witness
        delegated += check.signer != check.witness
    assert (own, delegated) == (76, 24)  # some witnesses sign with a permission key
    assert parent == rec["endingBlockId"].removeprefix("0x")


def test_a_signature_over_another_header_recovers_another_key() -> None:
    rec = _headers()
    raw = bytes.fromhex(rec["blockHeaderRawBytes"][0].removeprefix("0x"))
    other = bytes.fromhex(rec["witnessSignatures"][1].removeprefix("0x"))
    assert (
        verify.check_header(raw, other, None).signer
        != verify.check_header(
            raw, bytes.fromhex(rec["witnessSignatures"][0].removeprefix("0x")), None
        ).signer
    )


def test_merkle_root_follows_java_tron_for_odd_counts() -> None:
    a, b, c = (verify.sha256(bytes([i])) for i in range(3))
    assert verify.merkle_root([]) == bytes(32)
    assert verify.merkle_root([a]) == a
    assert verify.merkle_root([a, b, c]) == verify.sha256(verify.sha256(a + b) + c)


def test_bad_addresses_and_truncated_bytes_are_clear_errors() -> None:
    with pytest.raises(SourceError, match="not a 21-byte TRON address"):
        verify.address("42" + "00" * 20, "witness")
    with pytest.raises(SourceError, match="cut short"):
        wire.read(_extension()[:1000])


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field (the test's own encoder)."""
    out, n = bytearray([number << 3 | 2]), len(payload)
    while True:
        out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            return bytes(out) + payload
