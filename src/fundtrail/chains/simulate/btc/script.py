"""Keys, output scripts and dummy spending data for simulated Bitcoin wallets.

Nothing here signs anything: ingesters read scripts, they do not verify them.
Every address is derived from (seed, address id) alone, so a spend can rebuild
its public key and script instead of keeping them in memory, which is what
lets the simulator reach millions of addresses with bounded memory.
"""

from __future__ import annotations

import hashlib
from enum import IntEnum

from fundtrail.model.encoding import b58check_encode, segwit_encode


class Kind(IntEnum):
    """Output script types, in the order of their arrival on mainnet."""

    P2PKH = 0
    P2SH_P2WPKH = 1
    P2WPKH = 2
    P2WSH = 3
    P2TR = 4


# virtual bytes an input / output of each kind adds to a transaction (fee estimates)
INPUT_VSIZE = (148, 91, 68, 104, 58)
OUTPUT_VSIZE = (34, 32, 31, 43, 43)

_sha256 = hashlib.sha256


def _ripemd160(data: bytes) -> bytes:
    return hashlib.new("ripemd160", data).digest()


class Keyring:
    """Deterministic key material per address id; cheap enough to recompute on every spend."""

    def __init__(self, seed: int) -> None:
        self._prefix = b"fundtrail-sim" + seed.to_bytes(8, "little", signed=False)

    def secret(self, addr_id: int, index: int = 0) -> bytes:
        return _sha256(self._prefix + addr_id.to_bytes(6, "little") + bytes((index,))).digest()

    def pubkey(self, addr_id: int, index: int = 0) -> bytes:
        return _compressed(self.secret(addr_id, index))

    def multisig_script(self, addr_id: int) -> bytes:
        """2-of-3 multisig witness script: a typical cold wallet."""
        keys = b"".join(b"\x21" + self.pubkey(addr_id, i) for i in range(3))
        return b"\x52" + keys + b"\x53\xae"

    def program(self, addr_id: int, kind: int) -> bytes:
        """The 20- or 32-byte hash the address encodes."""
        if kind == Kind.P2TR:
            return self.secret(addr_id)
        if kind == Kind.P2WSH:
            return _sha256(self.multisig_script(addr_id)).digest()
        pkh = _ripemd160(_sha256(self.pubkey(addr_id)).digest())
        if kind == Kind.P2SH_P2WPKH:
            return _ripemd160(_sha256(b"\x00\x14" + pkh).digest())
        return pkh

    def spend(self, addr_id: int, kind: int) -> tuple[bytes, list[bytes] | None]:
        """(scriptSig, witness stack or None) of plausible size for spending this address."""
        h = self.secret(addr_id)
        if kind == Kind.P2TR:
            return b"", [h + h[::-1]]
        sig = b"\x30\x44\x02\x20" + h + b"\x02\x20" + h[::-1] + b"\x01"
        if kind == Kind.P2WSH:
            return b"", [b"", sig, sig[::-1][1:] + b"\x01", self.multisig_script(addr_id)]
        pub = _compressed(h)
        if kind == Kind.P2PKH:
            return b"\x47" + sig + b"\x21" + pub, None
        if kind == Kind.P2WPKH:
            return b"", [sig, pub]
        pkh = _ripemd160(_sha256(pub).digest())
        return b"\x16\x00\x14" + pkh, [sig, pub]


def _compressed(h: bytes) -> bytes:
    """A 33-byte compressed-key-shaped public key from 32 bytes of key material."""
    return (b"\x02" if h[31] & 1 == 0 else b"\x03") + h


def output_script(kind: int, program: bytes) -> bytes:
    if kind == Kind.P2PKH:
        return b"\x76\xa9\x14" + program + b"\x88\xac"
    if kind == Kind.P2SH_P2WPKH:
        return b"\xa9\x14" + program + b"\x87"
    if kind == Kind.P2WPKH:
        return b"\x00\x14" + program
    if kind == Kind.P2WSH:
        return b"\x00\x20" + program
    return b"\x51\x20" + program


def address_text(kind: int, program: bytes) -> str:
    """Mainnet address text of a program (base58check, bech32 or bech32m)."""
    if kind == Kind.P2PKH:
        return b58check_encode(b"\x00" + program)
    if kind == Kind.P2SH_P2WPKH:
        return b58check_encode(b"\x05" + program)
    return segwit_encode("bc", 1 if kind == Kind.P2TR else 0, program)
