"""Ordinary economic activity in bulk: valid blk files at hundreds of thousands of txs/s.

Why a second generator: the scenario simulator (:mod:`.btc`) builds every transaction as
Python objects with full ground truth, which is right for crimes and far too slow for a
chain big enough to measure scale (10-100M transactions). Here transactions are rows of
numpy byte matrices, built a whole *epoch* (up to ~200k txs) at a time and grouped by
shape (inputs, outputs, script type), so the only per-transaction Python work left is
hashing its bytes.

The economy: ``WALLETS`` ordinary wallets and ``SERVICES`` exchanges pay each other.
A transaction is made by the owner of a randomly chosen unspent coin; it may add up to
two more coins *of the same owner* (consolidation, so multi-input clustering finds
wallets, not a random giant component), pays a fresh address of another wallet or one
of a service's reused deposit addresses (Zipf-distributed, which makes the services'
superclusters), and returns change to a fresh address of its own. While the coin pool
is small, services pay out in 20-output batches. Coins made in an epoch are spent from
the next one on, so the age of spent coins spreads over the whole chain. Script types
mix P2WPKH, P2PKH, P2SH and P2TR; inputs carry a 107-byte scriptSig (signature and key
sized) that nothing checks. Blocks meet their own regtest-level target, chained on the
mainnet genesis like the scenario simulator's, so the same ingest reads both.

It can continue any chain tip: :func:`write_background` with ``prev`` and ``height`` of
a crime scenario's last block appends ordinary activity after the crime.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fundtrail.chains.bitcoin.sha import merkle_root, sha256d_rows
from fundtrail.chains.simulate.btc.serialize import (
    GENESIS_HASH,
    SUBSIDY,
    BlockFileWriter,
    coinbase_tx,
    mine_header,
    txout,
    varint,
)

WALLETS = 2_000_000
SERVICES = 2_000
SERVICE_SHARE = 0.15  # payments into a service's reused deposit address
TX_PER_BLOCK = 2_500
POOL_TARGET = 1_000_000  # coins in circulation the payouts build up to
EPOCH_MAX = 250_000
PAYOUT_OUTPUTS = 20
SCRIPTSIG = 107
# script type: (name, script length, share)
STYPES = (("p2wpkh", 22, 0.55), ("p2pkh", 25, 0.2), ("p2sh", 23, 0.15), ("p2tr", 34, 0.1))


@dataclass
class BackgroundSummary:
    blocks: int = 0
    txs: int = 0
    size: int = 0  # bytes of blocks written
    files: list[Path] = field(default_factory=list)
    tip_hash: bytes = b""
    height: int = 0
    seconds: float = 0.0


@dataclass
class _Pool:
    """Unspent coins: where they are (txid, vout), their value and owner."""

    txid: np.ndarray  # (n, 32) uint8
    vout: np.ndarray  # uint32
    value: np.ndarray  # int64
    owner: np.ndarray  # int64

    def __len__(self) -> int:
        return len(self.value)

    def keep(self, mask: np.ndarray) -> _Pool:
        return _Pool(self.txid[mask], self.vout[mask], self.value[mask], self.owner[mask])

    @staticmethod
    def join(parts: list[_Pool]) -> _Pool:
        return _Pool(
            np.concatenate([p.txid for p in parts]),
            np.concatenate([p.vout for p in parts]),
            np.concatenate([p.value for p in parts]),
            np.concatenate([p.owner for p in parts]),
        )


@dataclass
class _Shaped:
    """Transactions of one shape: their bytes back to back (fixed width), txids, fees."""

    raw: np.ndarray  # uint8
    width: int
    txid: np.ndarray  # (n, 32)
    fee: np.ndarray


@dataclass
class _Epoch:
    """An epoch's transactions by shape; block ``j`` of ``blocks`` takes the j-th slice of
    every shape, so each block carries the epoch's mix (grouped by shape inside it)."""

    parts: list[_Shaped]
    blocks: int

    def block(self, j: int) -> tuple[bytes, bytes, int, int]:
        """(tx bytes, txids, fees, tx count) of block j."""
        raw, ids, fee, count = [], [], 0, 0
        for p in self.parts:
            n = len(p.fee)
            a, b = n * j // self.blocks, n * (j + 1) // self.blocks
            raw.append(p.raw[a * p.width : b * p.width].tobytes())
            ids.append(p.txid[a:b].tobytes())
            fee += int(p.fee[a:b].sum())
            count += b - a
        return b"".join(raw), b"".join(ids), fee, count


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 of a uint64 array: address programs from address counters."""
    z = x + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _programs(ids: np.ndarray, size: int) -> np.ndarray:
    """(n, size) bytes of the witness program / hash160 of address counters ``ids``."""
    base = ids.astype(np.uint64) * np.uint64(4)
    words = np.stack([_mix(base + np.uint64(k)) for k in range(4)], axis=1)
    return words.view(np.uint8).reshape(len(ids), 32)[:, :size]


def _scripts(stype: int, ids: np.ndarray) -> np.ndarray:
    name, length, _ = STYPES[stype]
    out = np.empty((len(ids), length), dtype=np.uint8)
    if name == "p2wpkh":
        out[:, :2] = (0x00, 0x14)
        out[:, 2:] = _programs(ids, 20)
    elif name == "p2pkh":
        out[:, :3] = (0x76, 0xA9, 0x14)
        out[:, 3:23] = _programs(ids, 20)
        out[:, 23:] = (0x88, 0xAC)
    elif name == "p2sh":
        out[:, :2] = (0xA9, 0x14)
        out[:, 2:22] = _programs(ids, 20)
        out[:, 22] = 0x87
    else:
        out[:, :2] = (0x51, 0x20)
        out[:, 2:] = _programs(ids, 32)
    return out


def _le(values: np.ndarray, dtype: str) -> np.ndarray:
    a = np.ascontiguousarray(values.astype(dtype))
    return a.view(np.uint8).reshape(len(values), -1)


class _Economy:
    def __init__(self, seed: int, start_time: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.next_address = np.uint64(1 << 40)  # fresh addresses; services use 0..SERVICES-1
        self.pool = _Pool(
            np.zeros((0, 32), np.uint8),
            np.zeros(0, np.uint32),
            np.zeros(0, np.int64),
            np.zeros(0, np.int64),
        )
        self.time = start_time
        self.zipf = 1.0 / np.arange(1, SERVICES + 1) ** 1.1
        self.zipf /= self.zipf.sum()
        self.coinbases: list[_Pool] = []  # coins of blocks since the last epoch

    def fresh(self, n: int) -> np.ndarray:
        ids = np.arange(int(self.next_address), int(self.next_address) + n, dtype=np.uint64)
        self.next_address = np.uint64(int(self.next_address) + n)
        return ids

    def epoch(self, n_txs: int) -> _Epoch:
        """``n_txs`` transactions spending coins made before this epoch, in random order."""
        if len(self.pool) < 50:  # the first epoch: only coinbase coins exist yet
            self.pool = _Pool.join([self.pool, *self.coinbases])
            self.coinbases = []
        pending, self.coinbases = self.coinbases, []  # spendable from the next epoch on
        rng, pool = self.rng, self.pool
        n = min(n_txs, len(pool))
        order = np.argsort(pool.owner, kind="stable")
        primary_pos = np.sort(rng.choice(len(pool), n, replace=False))
        # positions in owner order; a primary may take the next one or two coins of its owner
        rank = np.empty(len(pool), dtype=np.int64)
        rank[order] = np.arange(len(pool))
        prim_rank = np.sort(rank[primary_pos])
        is_prim = np.zeros(len(pool) + 2, dtype=bool)
        is_prim[prim_rank] = True
        owner_sorted = np.append(pool.owner[order], [-1, -2])
        wants = rng.random(n)
        take1 = (
            (wants < 0.45)
            & (owner_sorted[prim_rank + 1] == owner_sorted[prim_rank])
            & ~is_prim[prim_rank + 1]
        )
        take2 = (
            take1
            & (wants < 0.15)
            & (owner_sorted[prim_rank + 2] == owner_sorted[prim_rank])
            & ~is_prim[prim_rank + 2]
        )
        inputs = [prim_rank, np.where(take1, prim_rank + 1, -1), np.where(take2, prim_rank + 2, -1)]
        n_in = 1 + take1.astype(np.int64) + take2.astype(np.int64)
        spent = np.zeros(len(pool), dtype=bool)
        coin = np.stack(inputs, axis=1)  # (n, 3) ranks, -1 unused
        real = coin >= 0
        coin_idx = np.where(real, order[np.where(real, coin, 0)], -1)
        spent[coin_idx[real]] = True
        owner = pool.owner[coin_idx[:, 0]]
        value_in = np.where(real, pool.value[np.where(real, coin_idx, 0)], 0).sum(axis=1)
        # what each tx does
        shortage = max(0.0, (POOL_TARGET - len(pool)) / POOL_TARGET)
        payout = (rng.random(n) < 0.02 + 0.9 * shortage) & (n_in == 1)
        single = ~payout & (rng.random(n) < 0.1)
        n_out = np.where(payout, PAYOUT_OUTPUTS, np.where(single, 1, 2))
        stype = rng.choice(len(STYPES), n, p=[s[2] for s in STYPES])
        fee = np.minimum(value_in // 10, rng.integers(300, 5_000, n))
        avail = value_in - fee
        shaped: list[_Shaped] = []
        made: list[_Pool] = [pool.keep(~spent), *pending]
        for k_in in (1, 2, 3):
            for k_out in (1, 2, PAYOUT_OUTPUTS):
                for st in range(len(STYPES)):
                    rows = np.nonzero((n_in == k_in) & (n_out == k_out) & (stype == st))[0]
                    if len(rows):
                        shaped.append(
                            self._shape(rows, k_in, k_out, st, coin_idx, owner, avail, fee, made)
                        )
        self.pool = _Pool.join(made)
        return _Epoch(shaped, -(-n // TX_PER_BLOCK))

    def _shape(
        self,
        rows: np.ndarray,
        k_in: int,
        k_out: int,
        st: int,
        coin_idx: np.ndarray,
        owner: np.ndarray,
        avail: np.ndarray,
        fee: np.ndarray,
        made: list[_Pool],
    ) -> _Shaped:
        """Serialize every tx of one shape at once; returns them and records their coins."""
        rng, pool, t = self.rng, self.pool, len(rows)
        # output values and receivers
        if k_out == 1:
            values = avail[rows][:, None]
        elif k_out == 2:
            pay = (avail[rows] * rng.uniform(0.05, 0.95, t)).astype(np.int64)
            values = np.stack([pay, avail[rows] - pay], axis=1)
        else:
            each = avail[rows] // k_out
            values = np.repeat(each[:, None], k_out, axis=1)
            values[:, -1] += avail[rows] - each * k_out
        to_service = rng.random((t, k_out)) < SERVICE_SHARE
        if k_out == 2:
            to_service[:, 1] = False  # change goes home
        service = rng.choice(SERVICES, (t, k_out), p=self.zipf)
        addr = self.fresh(t * k_out).reshape(t, k_out)
        addr = np.where(to_service, service.astype(np.uint64), addr)
        receiver = rng.integers(0, WALLETS, (t, k_out))
        out_owner = np.where(to_service, WALLETS + service, receiver)
        if k_out == 2:
            out_owner[:, 1] = owner[rows]
        # layout: version | n_in | inputs | n_out | outputs | locktime
        slen = STYPES[st][1]
        in_len, out_len = 32 + 4 + 1 + SCRIPTSIG + 4, 8 + 1 + slen
        n_out_bytes = varint(k_out)
        width = 4 + 1 + k_in * in_len + len(n_out_bytes) + k_out * out_len + 4
        m = np.zeros((t, width), dtype=np.uint8)
        m[:, 0:4] = (2, 0, 0, 0)
        m[:, 4] = k_in
        pos = 5
        for j in range(k_in):
            c = coin_idx[rows, j]
            m[:, pos : pos + 32] = pool.txid[c]
            m[:, pos + 32 : pos + 36] = _le(pool.vout[c], "<u4")
            m[:, pos + 36] = SCRIPTSIG
            m[:, pos + 37 : pos + 37 + SCRIPTSIG] = np.frombuffer(
                rng.bytes(t * SCRIPTSIG), np.uint8
            ).reshape(t, SCRIPTSIG)
            m[:, pos + 37 + SCRIPTSIG : pos + in_len] = 0xFF  # sequence
            pos += in_len
        m[:, pos : pos + len(n_out_bytes)] = np.frombuffer(n_out_bytes, np.uint8)
        pos += len(n_out_bytes)
        scripts = _scripts(st, addr.reshape(-1)).reshape(t, k_out, slen)
        for j in range(k_out):
            m[:, pos : pos + 8] = _le(values[:, j], "<i8")
            m[:, pos + 8] = slen
            m[:, pos + 9 : pos + out_len] = scripts[:, j]
            pos += out_len
        tid = sha256d_rows(m)  # compiled: no Python call per transaction
        made.append(
            _Pool(
                np.repeat(tid, k_out, axis=0),
                np.tile(np.arange(k_out, dtype=np.uint32), t),
                values.reshape(-1).astype(np.int64),
                out_owner.reshape(-1).astype(np.int64),
            )
        )
        return _Shaped(m.reshape(-1), width, tid, fee[rows])

    def coinbase(self, height: int, fees: int) -> tuple[bytes, bytes]:
        miner = int(self.rng.integers(0, 50))
        script = _scripts(1, np.array([SERVICES + miner], dtype=np.uint64))[0].tobytes()
        raw, txid = coinbase_tx(height, [txout(SUBSIDY + fees, script)], None, b"fundtrail-bg")
        coin = _Pool(
            np.frombuffer(txid, np.uint8).reshape(1, 32).copy(),
            np.zeros(1, np.uint32),
            np.array([SUBSIDY + fees], np.int64),
            np.array([WALLETS + SERVICES + miner], np.int64),
        )
        self.coinbases.append(coin)
        return raw, txid

    def coins(self) -> int:
        return len(self.pool) + len(self.coinbases)


def write_background(
    out: Path,
    txs: int,
    *,
    seed: int = 0,
    start_time: int = 1_704_067_200,
    prev: bytes | None = None,
    height: int = 0,
    file_bytes: int = 128 * 1024 * 1024,
    first_file: int = 0,
    progress: Callable[[int], None] | None = None,
) -> BackgroundSummary:
    """Write about ``txs`` ordinary transactions as blk files into ``out``.

    ``prev``/``height``: the block to extend (internal-order hash and its height;
    default the mainnet genesis). Same arguments, same bytes.
    """
    began = time.perf_counter()
    eco = _Economy(seed, start_time)
    summary = BackgroundSummary(tip_hash=prev or GENESIS_HASH, height=height)
    writer = BlockFileWriter(out, max_size=file_bytes)
    writer.index = first_file
    writer._file.close()
    writer._path(0).unlink(missing_ok=True)
    writer._file = open(writer._path(first_file), "wb")  # noqa: SIM115 - closed below
    writer.files = [writer._path(first_file)]
    try:
        while summary.txs < txs:
            if eco.coins() < 50:  # bootstrap: coinbase-only blocks until coins exist
                _block(eco, summary, writer, b"", b"", 0, 0)
                continue
            want = min(txs - summary.txs, EPOCH_MAX, max(50, eco.coins() // 3))
            ep = eco.epoch(want)
            for j in range(ep.blocks):
                _block(eco, summary, writer, *ep.block(j))
            if progress is not None:
                progress(summary.txs)
    finally:
        writer.close()
    summary.files = list(writer.files)
    summary.seconds = round(time.perf_counter() - began, 3)
    return summary


def _block(
    eco: _Economy,
    summary: BackgroundSummary,
    writer: BlockFileWriter,
    body: bytes,
    txids: bytes,
    fees: int,
    count: int,
) -> None:
    """One block: a coinbase paying subsidy and fees, then ``count`` txs."""
    height = summary.height + 1
    cb_raw, cb_txid = eco.coinbase(height, fees)
    root = _merkle(cb_txid + txids)
    eco.time += 600
    header, block_hash = mine_header(summary.tip_hash, root, eco.time)
    block = b"".join([header, varint(count + 1), cb_raw, body])
    writer.write(block)
    summary.tip_hash, summary.height = block_hash, height
    summary.blocks += 1
    summary.txs += count + 1
    summary.size += len(block)


def _merkle(ids: bytes) -> bytes:
    """Merkle root of 32-byte hashes given back to back (Bitcoin's odd-last duplication)."""
    return merkle_root(ids)
