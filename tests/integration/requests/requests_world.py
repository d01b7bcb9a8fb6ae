"""What the requests tests share: three partners and a bank around one campaign, their
deposits, a webhook receiver, the API client (fixtures in conftest.py)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fundtrail.intelstore.db import IntelStore
from fundtrail.model.identity import Identity

CAMPAIGN = "CMP-REQTEST001"
DEPOSITS_A = [
    {
        "chain": "BTC",
        "address": "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
        "asset": "BTC",
        "amount": 150_000_000,
        "share": 0.3,
        "txids": ["ab" * 32],
    },
    {
        "chain": "BTC",
        "address": "1BoatSLRHtKNngkdXEeobR76b53LETtpyT",
        "asset": "BTC",
        "amount": 2_500_000,
        "share": 0.005,
        "txids": ["cd" * 32],
    },
]
DEPOSITS_B = [
    {
        "chain": "BTC",
        "address": "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",
        "asset": "BTC",
        "amount": 100_000_000,
        "share": 0.2,
        "txids": ["ef" * 32],
    },
]
LOSS = {"BTC": 500_000_000}


@dataclass
class Partners:
    home: Path
    store: IntelStore
    police: Identity
    ex_a: Identity
    ex_b: Identity
    bank: Identity


@dataclass
class Receiver:
    url: str
    got: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    def wait(self, n: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.got) < n and time.monotonic() < deadline:
            time.sleep(0.02)
        return [json.loads(body) for _h, body in self.got]


@dataclass
class Api:
    client: Any
    keys: dict[str, str]

    def auth(self, org: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[org]}"}
