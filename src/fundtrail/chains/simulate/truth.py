"""The ground truth a run writes: truth.json, complaints.csv and a partner's tags.yaml.

complaints.csv holds what each victim reports, the perpetrator's contacts included
(:mod:`fundtrail.chains.simulate.contacts`); truth.json says which campaign each
complaint is in.

truth.json can hold millions of addresses, so it is streamed: addresses are
turned into text in chunks, grouped by entity with one numpy sort, and never
held as one big Python structure.
"""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import yaml

from fundtrail.chains.simulate.contacts import COLUMNS as CONTACT_COLUMNS
from fundtrail.chains.simulate.contacts import reported
from fundtrail.chains.simulate.registry import ROLES, Registry
from fundtrail.model.display import time_utc

COMPLAINT_COLUMNS = (
    "complaint_id",
    "victim",
    "reported_at",
    "chain",
    "txid",
    "vout",
    "to_address",
    "amount",
    "asset",
    *CONTACT_COLUMNS,
)
_CHUNK = 65536

# Encodes address records (rows of Registry.programs()) to address text.
Encoder = Callable[[np.ndarray], list[str]]


def iso(ts: int) -> str:
    return time_utc(ts)


@dataclass
class Campaign:
    id: str
    kind: str
    operator: int
    complaint_ids: list[str] = field(default_factory=list)
    collection_addresses: list[int] = field(default_factory=list)
    total_loss: dict[str, int] = field(default_factory=dict)
    victims: set[int] = field(default_factory=set)


@dataclass
class Complaint:
    complaint_id: str
    victim: str
    reported_at: int
    chain: str
    txid: str
    vout: int | None
    to_address: int
    amount: int
    asset: str


@dataclass
class Cashout:
    campaign: str
    exchange: int
    deposit_address: int
    amount: int
    asset: str
    txid: str
    vout: int | None
    time: int
    # how the proceeds reached the deposit: "peel" (a peel chain or whole, from the gang's
    # own wallets), "coinjoin" (coins the gang took out of a CoinJoin) or "mixer" (paid
    # out of a custodial mixer's reserve: no on-chain link to the victims' coins) or "swap"
    # (native coins a swap pool paid for the gang's tokens; account chains)
    via: str = "peel"
    # whether the exchange had swept that deposit address by the chain's end (on-chain
    # evidence that it is a deposit address; a single-use one never swept has none)
    swept: bool = True


@dataclass
class Tag:
    address: int
    label: str
    category: str = "exchange"  # GraphSense category: exchange, defi_dex (a swap pool)


@dataclass
class Swap:
    """Proceeds converted at a swap pool: ``sold`` of one asset in, ``bought`` of another
    paid back to the same address in the same transaction (account chains)."""

    campaign: str
    address: int
    pool: int
    txid: str
    sold_asset: str
    sold: int
    bought_asset: str
    bought: int


@dataclass
class MixerOrder:
    """Coins a gang paid into a custodial mixer's order address, and the fresh addresses
    of its own the mixer paid back to: nothing on chain ties them but amounts and times,
    so only the truth can say which payouts were which order's."""

    campaign: str
    deposit_address: int
    payouts: list[int] = field(default_factory=list)


@dataclass
class Truth:
    """What happened, collected while simulating; written once at the end."""

    scenario: str
    seed: int
    chain: str
    start_time: int
    campaigns: list[Campaign] = field(default_factory=list)
    complaints: list[Complaint] = field(default_factory=list)
    cashouts: list[Cashout] = field(default_factory=list)
    coinjoin_txids: list[str] = field(default_factory=list)
    tags: list[Tag] = field(default_factory=list)
    swaps: list[Swap] = field(default_factory=list)
    mixer_orders: list[MixerOrder] = field(default_factory=list)
    style: dict[str, Any] = field(default_factory=dict)  # the laundering style's knobs

    def campaign(self, kind: str, operator: int) -> Campaign:
        prefix = "scam" if kind == "investment-scam" else "ransomware"
        n = sum(1 for c in self.campaigns if c.kind == kind) + 1
        camp = Campaign(f"{prefix}-{n}", kind, operator)
        self.campaigns.append(camp)
        return camp

    def add_complaint(self, camp: Campaign, victim: int, c: Complaint) -> None:
        self.complaints.append(c)
        camp.complaint_ids.append(c.complaint_id)
        camp.victims.add(victim)
        camp.total_loss[c.asset] = camp.total_loss.get(c.asset, 0) + c.amount


class TruthWriter:
    def __init__(self, registry: Registry, encode: Encoder, network: str) -> None:
        self.registry = registry
        self.encode = encode
        self.network = network
        self._records = registry.programs()
        # addresses handed out but never paid stay out of the truth
        self._used = np.flatnonzero(np.frombuffer(registry.used, dtype=np.uint8))
        self._single: dict[int, str] = {}

    def text(self, addr: int) -> str:
        if addr not in self._single:
            self._single[addr] = self.encode(self._records[addr : addr + 1])[0]
        return self._single[addr]

    def write_all(self, truth: Truth, out: Path) -> None:
        clusters_path = out / ".clusters.json.tmp"
        try:
            with open(out / "truth.json", "w", encoding="utf-8") as f:
                self._write_truth(truth, f, clusters_path)
        finally:
            clusters_path.unlink(missing_ok=True)
        self._write_complaints(truth, out / "complaints.csv")
        self._write_tags(truth, out / "tags.yaml")

    # -- truth.json ---------------------------------------------------------------------
    def _grouped(self) -> Iterator[tuple[int, list[str]]]:
        """(entity, its address texts) in entity order, encoded in big chunks across entities."""
        owners = np.frombuffer(self.registry.entity_of, dtype=np.int32)[self._used]
        order = np.argsort(owners, kind="stable")
        ids, owners = self._used[order], owners[order]
        del order
        ent = 0
        group: list[str] = []
        for start in range(0, len(ids), _CHUNK):
            chunk_owners = owners[start : start + _CHUNK].tolist()
            texts = self.encode(self._records[ids[start : start + _CHUNK]])
            for owner, text in zip(chunk_owners, texts, strict=True):
                while owner != ent:
                    yield ent, group
                    ent, group = ent + 1, []
                group.append(text)
        for e in range(ent, len(self.registry.entities)):
            yield e, group if e == ent else []

    def _write_truth(self, truth: Truth, f: IO[str], clusters_path: Path) -> None:
        dump = json.dumps
        ents = self.registry.entities
        f.write("{" + f'"scenario": {dump(truth.scenario)}, "seed": {truth.seed}, ')
        f.write(f'"chain": {dump(truth.chain)}, "start_time": {dump(iso(truth.start_time))},\n')
        if truth.style:
            f.write(f'"style": {dump(truth.style)},\n')
        f.write('"entities": [')
        first = True
        with open(clusters_path, "w", encoding="utf-8") as cf:
            for ent, group in self._grouped():
                e = ents[ent]
                head = dump({"id": e.id, "name": e.name, "kind": e.kind})[:-1]
                f.write(f'{"," if ent else ""}\n {head}, "addresses": {dump(group)}}}')
                if len(group) > 1:  # a true ownership cluster
                    cf.write(("" if first else ",") + "\n " + dump(group))
                    first = False
        f.write('\n],\n"addresses": {')
        roles, owners = self.registry.role_of, self.registry.entity_of
        for start in range(0, len(self._used), _CHUNK):
            ids = self._used[start : start + _CHUNK]
            texts = self.encode(self._records[ids])
            parts = []
            for k, (i, t) in enumerate(zip(ids.tolist(), texts, strict=True), start):
                entry = f'"entity": "{ents[owners[i]].id}", "role": "{ROLES[roles[i]]}"'
                parts.append(f"{',' if k else ''}\n {dump(t)}: {{{entry}}}")
            f.write("".join(parts))
        f.write('\n},\n"clusters": [')
        with open(clusters_path, encoding="utf-8") as cf:
            shutil.copyfileobj(cf, f)
        f.write("\n],\n")
        f.write('"coinjoin_txids": ' + dump(truth.coinjoin_txids) + ",\n")
        f.write('"campaigns": ' + dump([self._campaign(c) for c in truth.campaigns], indent=1))
        f.write(',\n"cashouts": ' + dump([self._cashout(c) for c in truth.cashouts], indent=1))
        if truth.swaps:
            f.write(',\n"swaps": ' + dump([self._swap(x) for x in truth.swaps], indent=1))
        if truth.mixer_orders:
            orders = [self._mixer_order(m) for m in truth.mixer_orders]
            f.write(',\n"mixer_orders": ' + dump(orders, indent=1))
        f.write("\n}\n")

    def _mixer_order(self, m: MixerOrder) -> dict[str, Any]:
        return {
            "campaign": m.campaign,
            "deposit_address": self.text(m.deposit_address),
            "payouts": [self.text(a) for a in m.payouts],
        }

    def _campaign(self, c: Campaign) -> dict[str, Any]:
        return {
            "id": c.id,
            "kind": c.kind,
            "operator": self.registry.entities[c.operator].id,
            "victims": len(c.victims),
            "complaint_ids": c.complaint_ids,
            "collection_addresses": [self.text(a) for a in c.collection_addresses],
            "total_loss": c.total_loss,
        }

    def _cashout(self, c: Cashout) -> dict[str, Any]:
        ex = self.registry.entities[c.exchange]
        return {
            "campaign": c.campaign,
            "exchange": ex.id,
            "exchange_name": ex.name,
            "deposit_address": self.text(c.deposit_address),
            "amount": c.amount,
            "asset": c.asset,
            "txid": c.txid,
            "vout": c.vout,
            "time": iso(c.time),
            "via": c.via,
            "swept": c.swept,
        }

    def _swap(self, x: Swap) -> dict[str, Any]:
        return {
            "campaign": x.campaign,
            "address": self.text(x.address),
            "pool": self.text(x.pool),
            "txid": x.txid,
            "sold": {"asset": x.sold_asset, "amount": x.sold},
            "bought": {"asset": x.bought_asset, "amount": x.bought},
        }

    # -- complaints.csv and tags.yaml ---------------------------------------------------
    def _write_complaints(self, truth: Truth, path: Path) -> None:
        names = [self.registry.entities[c.operator].name for c in truth.campaigns]
        contacts = reported(truth.seed, truth.campaigns, names)
        with open(path, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(COMPLAINT_COLUMNS)
            for c in truth.complaints:
                vout = "" if c.vout is None else c.vout
                w.writerow(
                    [c.complaint_id, c.victim, iso(c.reported_at), c.chain, c.txid, vout,
                     self.text(c.to_address), c.amount, c.asset,
                     *contacts.get(c.complaint_id, [""] * len(CONTACT_COLUMNS))]
                )  # fmt: skip

    def _write_tags(self, truth: Truth, path: Path) -> None:
        pack = {
            "title": "Exchange hot wallets shared by an alliance partner (simulated)",
            "creator": "Partner exchange security team (fundtrail simulator)",
            "description": "A few exchange hot-wallet addresses, as a partner would share them.",
            "is_public": True,
            "lastmod": iso(truth.start_time)[:10],
            "tags": [
                {
                    "address": self.text(t.address),
                    "label": t.label,
                    "category": t.category,
                    "source": "https://partner.example/shared-intel/exchange-hot-wallets",
                    "currency": self.network,
                    "network": self.network,
                    "confidence": "service_data",
                }
                for t in truth.tags
            ],
        }
        with open(path, "w", encoding="utf-8") as f:
            yaml.safe_dump(pack, f, sort_keys=False, allow_unicode=True)
