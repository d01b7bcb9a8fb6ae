"""A whole block to columns in compiled loops: no Python object per transaction.

Why: the hand-written parser (:mod:`.parse`) makes a tuple per input and output, and
turning those into columns and classifying the scripts cost another pass in Python;
together they were most of ingest's CPU. Here one numba loop walks the block's bytes
and writes offsets and integers into preallocated arrays, txids and the merkle root are
hashed over offsets into the block (:mod:`.sha`), and standard output scripts are
recognised and encoded with whole-array numpy (:mod:`.bulk`). Only scripts of rare
shapes (P2PK, multisig, OP_RETURN, unknown) go through :func:`.script.classify` one by
one.

The loop is deliberately strict: any byte it does not like (a truncation, a varint
count that runs past the end, an output value above 2^63, an empty block) makes it
decline, and the caller parses the block with :mod:`.parse`, which accepts what it accepts
and raises the error users see, naming the offset. So the columns are those of
``block_columns(parse_block(raw))`` by construction, and tested against it.
"""

from __future__ import annotations

import hashlib
import struct

import numpy as np
import pyarrow as pa
from numba import njit

from fundtrail.chains.bitcoin import sha
from fundtrail.chains.bitcoin.columns import BlockColumns
from fundtrail.chains.bitcoin.parse import HEADER_SIZE, _varint, check_pow, parse_header
from fundtrail.chains.bitcoin.script import MAINNET_FORMAT, AddressFormat, classify, version_states
from fundtrail.model.encoding import B58_ALPHABET, BECH32_CHARSET


@njit(cache=True, inline="always")
def _u32(d, p):  # type: ignore[no-untyped-def]  # pragma: no cover - numba
    return (
        np.int64(d[p])
        | (np.int64(d[p + 1]) << 8)
        | (np.int64(d[p + 2]) << 16)
        | (np.int64(d[p + 3]) << 24)
    )


@njit(cache=True, inline="always")
def _varint_at(d, pos, end):  # type: ignore[no-untyped-def]  # pragma: no cover - numba
    """(value, next position); value -1 when it runs past ``end`` or is absurdly large."""
    if pos >= end:
        return -1, pos
    n = d[pos]
    if n < 0xFD:
        return np.int64(n), pos + 1
    if n == 0xFD:
        if pos + 3 > end:
            return -1, pos
        return np.int64(d[pos + 1]) | (np.int64(d[pos + 2]) << 8), pos + 3
    if n == 0xFE:
        if pos + 5 > end:
            return -1, pos
        return _u32(d, pos + 1), pos + 5
    if pos + 9 > end or d[pos + 8] != 0 or d[pos + 7] != 0 or d[pos + 6] != 0 or d[pos + 5] > 127:
        return -1, pos
    return _u32(d, pos + 1) | (_u32(d, pos + 5) << 32), pos + 9


@njit(cache=True, nogil=True)
def _scan(  # type: ignore[no-untyped-def]  # pragma: no cover - numba
    d, pos, count, tx, ins, outs
):
    """Walk ``count`` transactions from ``pos``. ``tx`` (count, 9): start, end, version,
    locktime, body start, body end, segwit, inputs, outputs; ``ins`` (cap, 3): prev offset,
    index, sequence; ``outs`` (cap, 3): value, script offset, script length.
    Returns (inputs, outputs) written, or (-1, -1) to decline."""
    end = d.shape[0]
    ni = 0
    no = 0
    for t in range(count):
        start = pos
        if pos + 6 > end:
            return -1, -1
        version = _u32(d, pos)
        if version >= 2147483648:
            version -= 4294967296
        pos += 4
        segwit = d[pos] == 0 and d[pos + 1] != 0
        if segwit:
            if d[pos + 1] != 1:
                return -1, -1
            pos += 2
        body = pos
        n, pos = _varint_at(d, pos, end)
        if n < 0 or n * 41 > end - pos or ni + n > ins.shape[0]:
            return -1, -1
        for _ in range(n):
            if pos + 37 > end:
                return -1, -1
            ins[ni, 0] = pos
            ins[ni, 1] = _u32(d, pos + 32)
            ln, pos = _varint_at(d, pos + 36, end)
            if ln < 0 or pos + ln + 4 > end:
                return -1, -1
            pos += ln
            ins[ni, 2] = _u32(d, pos)
            pos += 4
            ni += 1
        k, pos = _varint_at(d, pos, end)
        if k < 0 or k * 9 > end - pos or no + k > outs.shape[0]:
            return -1, -1
        for _ in range(k):
            if pos + 9 > end or d[pos + 7] > 127:
                return -1, -1
            outs[no, 0] = _u32(d, pos) | (_u32(d, pos + 4) << 32)
            ln, pos = _varint_at(d, pos + 8, end)
            if ln < 0 or pos + ln > end:
                return -1, -1
            outs[no, 1] = pos
            outs[no, 2] = ln
            pos += ln
            no += 1
        body_end = pos
        if segwit:
            for _ in range(n):
                items, pos = _varint_at(d, pos, end)
                if items < 0 or items > end - pos:
                    return -1, -1
                for _ in range(items):
                    ln, pos = _varint_at(d, pos, end)
                    if ln < 0 or pos + ln > end:
                        return -1, -1
                    pos += ln
        if pos + 4 > end:
            return -1, -1
        tx[t, 0] = start
        tx[t, 1] = pos + 4
        tx[t, 2] = version
        tx[t, 3] = _u32(d, pos)
        tx[t, 4] = body
        tx[t, 5] = body_end
        tx[t, 6] = 1 if segwit else 0
        tx[t, 7] = n
        tx[t, 8] = k
        pos += 4
    if pos != end:
        return -1, -1
    return ni, no


def fast_columns(
    raw: bytes, where: str, fmt: AddressFormat = MAINNET_FORMAT
) -> tuple[BlockColumns | None, str | None]:
    """(columns, None) of a valid block; (None, None) when the loop declines (parse the
    block with :mod:`.parse` instead: it raises the precise error, or accepts the block);
    (None, message) when it parses but fails a check (PoW, merkle root)."""
    if len(raw) < HEADER_SIZE + 1:
        return None, None
    header = parse_header(raw)
    try:
        count, pos = _varint(raw, HEADER_SIZE)
    except (IndexError, struct.error):  # the exact parser reports it
        return None, None
    if count < 1 or count > len(raw):
        return None, None
    d = np.frombuffer(raw, dtype=np.uint8)
    room = len(raw) - pos
    tx = np.empty((count, 9), dtype=np.int64)
    ins = np.empty((room // 41 + 1, 3), dtype=np.int64)
    outs = np.empty((room // 9 + 1, 3), dtype=np.int64)
    n_in_total, n_out_total = _scan(d, pos, count, tx, ins, outs)
    if n_in_total < 0:
        return None, None
    ins, outs = ins[:n_in_total], outs[:n_out_total]
    if not check_pow(header):
        return None, (
            f"{where}: block {header.block_hash} does not meet the target of its own bits "
            f"{header.bits:08x} (corrupt header?)"
        )
    start, stop, body, body_end = tx[:, 0], tx[:, 1], tx[:, 4], tx[:, 5]
    segwit = tx[:, 6].astype(bool)
    # txid: version | body | locktime of a segwit tx (no marker, flag, witness); else all
    starts = np.stack([start, np.where(segwit, body, stop), np.where(segwit, stop - 4, stop)], 1)
    ends = np.stack([np.where(segwit, start + 4, stop), np.where(segwit, body_end, stop), stop], 1)
    txid = sha.sha256d_parts(d, starts, ends)
    if sha.merkle_root(txid) != header.merkle_root:
        return (
            None,
            f"{where}: block {header.block_hash} merkle root does not match its transactions",
        )
    n_in, n_out = tx[:, 7], tx[:, 8]
    first_in = np.zeros(count, dtype=np.int64)
    np.cumsum(n_in[:-1], out=first_in[1:])
    has_in = n_in == 1
    fi = np.where(has_in, first_in, 0)
    coinbase = has_in & (ins[fi, 1] == 0xFFFFFFFF) if len(ins) else np.zeros(count, bool)
    if coinbase.any():
        cb = np.nonzero(coinbase)[0]
        prev = d[ins[first_in[cb], 0][:, None] + np.arange(32)]
        coinbase[cb] = ~prev.any(axis=1)
    keep = np.repeat(~coinbase, n_in)
    kept = ins[keep]
    size = stop - start
    base = np.where(segwit, 8 + body_end - body, size)
    out_type, out_address = classify_columns(d, outs[:, 1], outs[:, 2], fmt)
    cols = BlockColumns(
        header=header,
        size=len(raw),
        txid=txid.tobytes(),
        tx_size=size,
        tx_vsize=(base * 3 + size + 3) // 4,
        version=tx[:, 2].copy(),
        locktime=tx[:, 3].copy(),
        coinbase=coinbase,
        n_inputs=np.where(coinbase, 0, n_in),
        n_outputs=n_out.copy(),
        out_value=outs[:, 0].copy(),
        out_type=out_type,
        out_address=out_address,
        in_prev=_rows_at(d, kept[:, 0].copy(), 32).tobytes(),
        in_index=kept[:, 1].copy(),
        in_sequence=kept[:, 2].copy(),
    )
    return cols, None


# kinds recognised here (1-5 encoded by the compiled loop, 6 has no address); 0 is
# "classified in Python, text given"
_KINDS = ("", "p2pkh", "p2sh", "p2wpkh", "p2wsh", "p2tr", "nulldata", "p2pk")
_NULLDATA = 6
_P2PK = 7  # encoded as kind 1 (P2PKH text of the key's hash160), named p2pk
_OP_RETURN = 0x6A
_B58 = np.frombuffer(B58_ALPHABET.encode("ascii"), dtype=np.uint8)
_B32 = np.frombuffer(BECH32_CHARSET.encode("ascii"), dtype=np.uint8)
_GEN = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
_GEN32 = np.array(
    [
        np.bitwise_xor.reduce([g for b, g in enumerate(_GEN) if (t >> b) & 1] or [0])
        for t in range(32)
    ],
    dtype=np.uint64,
)  # the polymod's XOR for each value of the top five bits
_D5 = np.uint64(58**5)
_U58 = np.uint64(58)
_U32 = np.uint64(32)


@njit(cache=True, nogil=True)
def _encode(  # type: ignore[no-untyped-def]  # pragma: no cover - numba
    d, off, kind, chk, versions, hrp, states, given, given_offs, out, out_offs
):
    """Address text of each output, back to back in ``out`` (``out_offs``: n + 1 ends).
    kind 1/2: base58check of ``versions[kind-1]`` + the 20-byte hash, checksum ``chk``;
    3/4/5: bech32 (v0) / bech32m (v1) of the program; 0 and 6 (nulldata): the ``given``
    text (may be empty).
    ``states``: bech32 checksum state after the hrp and the witness version 0, 1."""
    limbs = np.empty(7, np.uint64)
    digits = np.empty(35, np.uint8)
    raw = np.empty(28, np.uint8)
    groups = np.empty(64, np.int64)
    pos = 0
    out_offs[0] = 0
    for i in range(off.shape[0]):
        k = kind[i]
        a = off[i]
        if k == 1 or k == 2:
            raw[0] = 0
            raw[1] = 0
            raw[2] = 0
            raw[3] = versions[k - 1]
            h = a + 3 if k == 1 else a + 2
            for j in range(20):
                raw[4 + j] = d[h + j]
            for j in range(4):
                raw[24 + j] = chk[i, j]
            for j in range(7):
                limbs[j] = (
                    (np.uint64(raw[4 * j]) << np.uint64(24))
                    | (np.uint64(raw[4 * j + 1]) << np.uint64(16))
                    | (np.uint64(raw[4 * j + 2]) << np.uint64(8))
                    | np.uint64(raw[4 * j + 3])
                )
            for chunk in range(6, -1, -1):  # five digits per division by 58**5
                rem = np.uint64(0)
                for j in range(7):
                    cur = (rem << _U32) | limbs[j]
                    q5 = cur // _D5
                    limbs[j] = q5
                    rem = cur - q5 * _D5
                for q in range(4, -1, -1):
                    r58 = rem // _U58
                    digits[chunk * 5 + q] = rem - r58 * _U58
                    rem = r58
            lead = 0
            while lead < 35 and digits[lead] == 0:
                lead += 1
            zeros = 0
            while zeros < 25 and raw[3 + zeros] == 0:
                zeros += 1
            first = lead - zeros
            for j in range(first, 35):
                out[pos] = _B58[digits[j]]
                pos += 1
        elif 3 <= k <= 5:
            size = 20 if k == 3 else 32
            version = 0 if k != 5 else 1
            for j in range(hrp.shape[0]):
                out[pos] = hrp[j]
                pos += 1
            out[pos] = 49  # "1"
            out[pos + 1] = _B32[version]
            pos += 2
            acc = np.int64(0)
            bits = 0
            ng = 0
            for j in range(size):
                acc = ((acc << 8) | np.int64(d[a + 2 + j])) & 0xFFF
                bits += 8
                while bits >= 5:
                    bits -= 5
                    groups[ng] = (acc >> bits) & 31
                    ng += 1
            if bits:
                groups[ng] = (acc << (5 - bits)) & 31
                ng += 1
            c = np.uint64(states[version])
            for j in range(ng + 6):
                v = np.uint64(groups[j]) if j < ng else np.uint64(0)
                c = ((c & np.uint64(0x1FFFFFF)) << np.uint64(5)) ^ v ^ _GEN32[c >> np.uint64(25)]
            c ^= np.uint64(1 if version == 0 else 0x2BC830A3)
            for j in range(ng):
                out[pos] = _B32[groups[j]]
                pos += 1
            for j in range(6):
                out[pos] = _B32[(c >> np.uint64(5 * (5 - j))) & np.uint64(31)]
                pos += 1
        else:
            for j in range(given_offs[i], given_offs[i + 1]):
                out[pos] = given[j]
                pos += 1
        out_offs[i + 1] = pos
    return pos


def _strings(data: np.ndarray, offsets: np.ndarray, valid: np.ndarray | None) -> pa.Array:
    n = len(offsets) - 1
    bitmap = None if valid is None else pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.Array.from_buffers(
        pa.string(),
        n,
        [bitmap, pa.py_buffer(offsets.astype(np.int32).tobytes()), pa.py_buffer(data.tobytes())],
        null_count=-1 if valid is None else int(n - valid.sum()),
    )


def classify_columns(
    d: np.ndarray, off: np.ndarray, ln: np.ndarray, fmt: AddressFormat = MAINNET_FORMAT
) -> tuple[pa.Array, pa.Array]:
    """(script type, address) of each output script ``d[off:off+ln]``, as Arrow strings:
    exactly :func:`.script.classify` of each, the standard types in compiled code."""
    n = len(off)
    if not n:
        return pa.array([], pa.string()), pa.array([], pa.string())
    kind = np.zeros(n, dtype=np.int64)

    def byte(rows: np.ndarray, k: int) -> np.ndarray:
        return d[off[rows] + k]

    if len(fmt.p2pkh) == 1 and len(fmt.p2sh) == 1:
        r = np.nonzero(ln == 25)[0]
        r = r[
            (byte(r, 0) == 0x76)
            & (byte(r, 1) == 0xA9)
            & (byte(r, 2) == 20)
            & (byte(r, 23) == 0x88)
            & (byte(r, 24) == 0xAC)
        ]
        kind[r] = 1
        r = np.nonzero(ln == 23)[0]
        kind[r[(byte(r, 0) == 0xA9) & (byte(r, 1) == 20) & (byte(r, 22) == 0x87)]] = 2
    r = np.nonzero(ln == 22)[0]
    kind[r[(byte(r, 0) == 0x00) & (byte(r, 1) == 20)]] = 3
    r = np.nonzero(ln == 34)[0]
    r = r[byte(r, 1) == 32]
    kind[r[byte(r, 0) == 0x00]] = 4
    kind[r[byte(r, 0) == 0x51]] = 5
    # OP_RETURN outputs (a sixth of a 2019 block's outputs) are nulldata, no address: none
    # of the kinds above starts with that byte, so this is classify()'s order too
    r = np.nonzero((kind == 0) & (ln > 0))[0]
    kind[r[byte(r, 0) == _OP_RETURN]] = _NULLDATA
    p2pk = np.zeros(0, dtype=np.int64)
    if len(fmt.p2pkh) == 1:
        d, off, p2pk = _p2pk_as_p2pkh(d, off, ln, kind)
    chk = np.zeros((n, 4), dtype=np.uint8)
    b58 = np.nonzero((kind == 1) | (kind == 2))[0]
    versions = np.array([fmt.p2pkh[0], fmt.p2sh[0]], dtype=np.uint8)
    if len(b58):
        payload = np.empty((len(b58), 21), dtype=np.uint8)
        payload[:, 0] = versions[kind[b58] - 1]
        at = off[b58] + np.where(kind[b58] == 1, 3, 2)
        payload[:, 1:] = _rows_at(d, at, 20)
        chk[b58] = sha.sha256d_rows(payload)[:, :4]
    names = list(_KINDS)
    codes = kind.copy()
    codes[p2pk] = _P2PK
    nulldata = kind == _NULLDATA
    valid = ~nulldata if nulldata.any() else None
    given_parts: list[bytes] = []
    given_len = np.zeros(n, dtype=np.int64)
    rest = np.nonzero(kind == 0)[0]
    if len(rest):
        if valid is None:
            valid = np.ones(n, dtype=bool)
        for i, a, k in zip(rest.tolist(), off[rest].tolist(), ln[rest].tolist(), strict=True):
            stype, address = classify(d[a : a + k].tobytes(), fmt)
            if stype not in names:
                names.append(stype)
            codes[i] = names.index(stype)
            if address is None:
                valid[i] = False
            else:
                text = address.encode("ascii")
                given_parts.append(text)
                given_len[i] = len(text)
    given_offs = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(given_len, out=given_offs[1:])
    given = np.frombuffer(b"".join(given_parts) or b"\0", dtype=np.uint8)
    hrp = np.frombuffer(fmt.hrp.encode("ascii"), dtype=np.uint8)
    states = np.array(version_states(fmt.hrp)[:2], dtype=np.int64)
    out = np.empty(n * (len(hrp) + 62) + len(given), dtype=np.uint8)
    offs = np.empty(n + 1, dtype=np.int64)
    used = _encode(d, off, kind, chk, versions, hrp, states, given, given_offs, out, offs)
    address = _strings(out[:used], offs, valid)
    blob = [x.encode("ascii") for x in names]
    name_offs = np.zeros(len(names) + 1, dtype=np.int64)
    np.cumsum([len(x) for x in blob], out=name_offs[1:])
    type_len = np.diff(name_offs)[codes]
    type_offs = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(type_len, out=type_offs[1:])
    type_data = _gather(np.frombuffer(b"".join(blob), np.uint8), name_offs, codes, type_offs)
    return _strings(type_data, type_offs, None), address


def _p2pk_as_p2pkh(
    d: np.ndarray, off: np.ndarray, ln: np.ndarray, kind: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """P2PK outputs (``<pubkey> OP_CHECKSIG`` with a well-formed key, classify()'s rule)
    made kind 1 over a copy of ``d`` with each key's hash160 appended, their offsets
    pointing at it: the compiled base58 encoder then writes their P2PKH-form address.
    Returns (data, offsets, rows that are P2PK). Why: one block of 2019 has dozens, and
    each went through hashlib and a Python base58 loop while holding the GIL."""
    r = np.nonzero((kind == 0) & ((ln == 35) | (ln == 67)))[0]
    if len(r):
        first, last = d[off[r]], d[off[r] + ln[r] - 1]
        prefix = d[off[r] + 1]
        key_ok = np.where(ln[r] == 35, (prefix == 2) | (prefix == 3), prefix == 4)
        r = r[(first == ln[r] - 2) & (last == 0xAC) & key_ok]
    if not len(r):
        return d, off, r
    hashes = b"".join(
        hashlib.new("ripemd160", hashlib.sha256(d[a + 1 : a + k - 1].tobytes()).digest()).digest()
        for a, k in zip(off[r].tolist(), ln[r].tolist(), strict=True)
    )
    base = len(d)
    d = np.concatenate([d, np.frombuffer(hashes, dtype=np.uint8)])
    off = off.copy()
    off[r] = base + 20 * np.arange(len(r)) - 3  # kind 1 reads the hash at offset + 3
    kind[r] = 1
    return d, off, r


@njit(cache=True, nogil=True)
def _rows_at(d, starts, width):  # type: ignore[no-untyped-def]  # pragma: no cover - numba
    """(n, width) copy of ``d[starts[i]:starts[i] + width]``: the inputs' prevout txids, the
    base58 payloads (a fancy-indexing gather built an index array per byte, under the GIL)."""
    out = np.empty((starts.shape[0], width), np.uint8)
    for i in range(starts.shape[0]):
        a = starts[i]
        if a < 0 or a + width > d.shape[0]:
            raise IndexError("row outside the block")
        for j in range(width):
            out[i, j] = d[a + j]
    return out


@njit(cache=True, nogil=True)
def _gather(blob, blob_offs, codes, out_offs):  # type: ignore[no-untyped-def]  # pragma: no cover
    out = np.empty(out_offs[-1], np.uint8)
    for i in range(codes.shape[0]):
        a = blob_offs[codes[i]]
        p = out_offs[i]
        for j in range(blob_offs[codes[i] + 1] - a):
            out[p + j] = blob[a + j]
    return out
