"""The block tree: the stored main chain, blocks waiting for a parent, and the most-work rule.

The store holds exactly one chain (the main chain). Blocks that do not extend it are
kept here as *pending*: orphans (parent unknown) and side branches. After each new
block, :meth:`ChainIndex.add` says whether some branch now has more work than the main
chain (work is derived from each header's own ``bits``, as Bitcoin Core does); the
ingest service then rolls the store back to the fork point and applies the branch.
Ties keep the chain seen first.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fundtrail.chains.bitcoin.columns import BlockColumns
from fundtrail.chains.bitcoin.parse import block_work

ZERO_HASH = b"\0" * 32


@dataclass(slots=True)
class Pending:
    block: BlockColumns
    raw: bytes
    where: str

    @property
    def prev(self) -> bytes:
        return self.block.header.prev_hash


@dataclass(slots=True)
class Switch:
    """Roll the main chain back to ``fork_height`` and apply ``path`` (pending hashes) on top."""

    fork_height: int
    path: list[bytes]


@dataclass
class ChainIndex:
    hashes: list[bytes] = field(default_factory=list)  # main chain, internal order, by height
    works: list[int] = field(default_factory=list)  # cumulative work by height
    height_of: dict[bytes, int] = field(default_factory=dict)
    pending: dict[bytes, Pending] = field(default_factory=dict)
    children: dict[bytes, list[bytes]] = field(default_factory=dict)
    genesis: bytes = ZERO_HASH  # hash of the one block allowed at height 0

    @property
    def tip_height(self) -> int:
        return len(self.hashes) - 1

    @property
    def tip_work(self) -> int:
        return self.works[-1] if self.works else -1

    def knows(self, h: bytes) -> bool:
        return h in self.height_of or h in self.pending

    def push_main(self, h: bytes, bits: int) -> None:
        """Record a block applied on top of the main chain."""
        self.height_of[h] = len(self.hashes)
        self.works.append((self.works[-1] if self.works else 0) + block_work(bits))
        self.hashes.append(h)

    def truncate(self, fork_height: int) -> list[bytes]:
        """Drop main-chain blocks above ``fork_height``; returns their hashes, lowest first."""
        dropped = self.hashes[fork_height + 1 :]
        for h in dropped:
            del self.height_of[h]
        del self.hashes[fork_height + 1 :]
        del self.works[fork_height + 1 :]
        return dropped

    def hold(self, h: bytes, item: Pending) -> None:
        self.pending[h] = item
        self.children.setdefault(item.prev, []).append(h)

    def take(self, h: bytes) -> Pending:
        item = self.pending.pop(h)
        siblings = self.children.get(item.prev, [])
        if h in siblings:
            siblings.remove(h)
            if not siblings:
                del self.children[item.prev]
        return item

    def best_switch(self, h: bytes) -> Switch | None:
        """The best branch through pending block ``h``, if it beats the main chain."""
        root = h
        while root in self.pending:
            prev = self.pending[root].prev
            if prev in self.height_of or (prev == ZERO_HASH and root == self.genesis):
                break
            root = prev
        if root not in self.pending:
            return None  # an orphan: its ancestry is not known yet
        prev = self.pending[root].prev
        fork = self.height_of.get(prev, -1)
        base = self.works[fork] if fork >= 0 else 0
        best_work, best_path = self.tip_work, None
        stack: list[tuple[bytes, int, list[bytes]]] = [
            (root, base + block_work(self.pending[root].block.header.bits), [root])
        ]
        while stack:
            node, work, path = stack.pop()
            if work > best_work:
                best_work, best_path = work, path
            for child in self.children.get(node, []):
                bits = self.pending[child].block.header.bits
                stack.append((child, work + block_work(bits), [*path, child]))
        return Switch(fork, best_path) if best_path else None
