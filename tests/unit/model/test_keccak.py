"""Keccak-256 (Ethereum's hash, not SHA3-256): the fast one-call path agrees with the
library's hash object on known vectors, every padding boundary and from many threads."""

from __future__ import annotations

import os
import threading

from Crypto.Hash import keccak

from fundtrail.model.encoding import eip55, keccak256


def reference(data: bytes) -> bytes:
    return keccak.new(digest_bits=256, data=data).digest()


def test_known_vectors() -> None:
    assert keccak256(b"").hex() == (
        "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    )
    assert keccak256(b"abc").hex() == (
        "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"
    )
    # the EIP-55 specification's own examples
    assert eip55("5aaeb6053f3e94c9b9a09f33669435e7ef1beaed") == (
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
    )
    assert eip55("fb6916095ca1df60bb79ce92ce3ea74c37c5d359") == (
        "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"
    )


def test_every_length_around_the_block_size() -> None:
    for n in (*range(0, 140), 271, 272, 273, 5000):
        data = os.urandom(n)
        assert keccak256(data) == reference(data), n


def test_threads_do_not_share_answers() -> None:
    wrong: list[bytes] = []

    def work() -> None:
        for _ in range(500):
            data = os.urandom(40)
            if keccak256(data) != reference(data):
                wrong.append(data)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wrong == []
