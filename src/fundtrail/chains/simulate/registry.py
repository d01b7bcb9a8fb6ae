"""Who owns what: entities and every address they hold, with its role (the ground truth).

Per address the registry keeps 6 bytes in memory (entity, role, script kind);
the address program goes to a scratch file, and address text is only made
when the truth is written, in bulk.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ENTITY_KINDS = (
    "exchange",
    "user",
    "miner",
    "coinjoin-coordinator",
    "mixer",
    "scam",
    "ransomware",
    "victim",
    "dex",
    "contract",  # a public contract anyone calls (a disperse contract batching payments)
)

ROLES = (
    "deposit",
    "hot_wallet",
    "cold_wallet",
    "withdrawal",
    "change",
    "payment",
    "collection",
    "consolidation",
    "peel",
    "ransom_payment",
    "coinbase",
    "coinjoin_output",
    "victim_wallet",
    "receive",
    "mixer_deposit",
    "mixer_reserve",
    "premix",
    "coordinator_fee",
    "cashout",
    "token_contract",
    "relayer",
    "swap_pool",
    "batch_contract",
)
ROLE = {name: code for code, name in enumerate(ROLES)}
RECORD = 34  # kind byte, program length byte, program padded to 32 bytes


@dataclass(slots=True)
class Entity:
    id: str
    name: str
    kind: str


class Registry:
    def __init__(self, scratch: Path, program: Callable[[int, int], bytes]) -> None:
        self.entities: list[Entity] = []
        self.entity_of = array("i")
        self.role_of = bytearray()
        self.kind_of = bytearray()
        self.used = bytearray()  # 1 once an address received something on chain
        self._program = program
        self._scratch_path = scratch
        self._scratch = open(scratch, "wb")  # noqa: SIM115 - closed by programs()
        self._buf: list[bytes] = []
        self._counts: dict[str, int] = {}
        self.last_program = b""

    def add_entity(self, kind: str, name: str) -> int:
        assert kind in ENTITY_KINDS, kind
        n = self._counts.get(kind, 0) + 1
        self._counts[kind] = n
        self.entities.append(Entity(f"{kind}-{n}", name, kind))
        return len(self.entities) - 1

    def new_address(self, entity: int, role: str, kind: int = 0) -> int:
        addr = len(self.role_of)
        self.entity_of.append(entity)
        self.role_of.append(ROLE[role])
        self.kind_of.append(kind)
        self.used.append(0)
        prog = self._program(addr, kind)
        self.last_program = prog
        self._buf.append(bytes((kind, len(prog))) + prog.ljust(32, b"\0"))
        if len(self._buf) >= 4096:
            self._scratch.write(b"".join(self._buf))
            self._buf.clear()
        return addr

    def __len__(self) -> int:
        return len(self.role_of)

    def programs(self) -> np.ndarray:
        """All address records as an (n, 34) uint8 array (memory-mapped); closes the scratch."""
        if not self._scratch.closed:
            self._scratch.write(b"".join(self._buf))
            self._buf.clear()
            self._scratch.close()
        if not len(self):
            return np.zeros((0, RECORD), dtype=np.uint8)
        return np.memmap(self._scratch_path, dtype=np.uint8, mode="r").reshape(-1, RECORD)

    def discard(self) -> None:
        if not self._scratch.closed:
            self._scratch.close()
        self._scratch_path.unlink(missing_ok=True)
