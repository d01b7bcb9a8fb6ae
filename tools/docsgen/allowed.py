"""Numbers in the docs that read like measurements but are not, each with its reason.

A figure a benchmark or test measured is quoted from its record (``<!--fig ...-->``);
what ``NOT_MEASURED`` lists is a rule, a setting, a format's constant or an input size,
and says so.

``LEGACY`` is the transition: hand-typed figures and hand-written console output that
were on the pages before the docs were generated, counted per page. The count must
equal what the page holds: whoever quotes a figure from its record or marks a block
generated lowers it, nobody can add one. It ends empty.
"""

from __future__ import annotations

# (page, phrase on the line, why it is not a measurement)
NOT_MEASURED: tuple[tuple[str, str, str], ...] = (
    ("README.md", "below 0.1% of the loss", "the freeze-request threshold (a rule)"),
    ("README.md", "under 5% of all the address", "the freeze-request threshold (a rule)"),
    ("docs/guide/70-cases.md", "at least 0.1% of the campaign's loss", "the freeze threshold"),
    ("docs/guide/70-cases.md", "at least 5% of all the address", "the freeze threshold"),
    ("docs/guide/70-cases.md", "0.1% of the loss: a gang that feeds", "the freeze threshold"),
    ("docs/guide/20-simulate.md", "a new file every 128 MiB", "Bitcoin Core's blk file size"),
    ("docs/guide/20-simulate.md", "about 10 minutes apart", "the simulator's block interval"),
    ("docs/guide/20-simulate.md", "0.001 / 0.01 / 0.05 / 0.5 BTC", "Whirlpool's pool sizes"),
    ("docs/guide/10-bitcoin.md", "batches (64 MB of blocks)", "the ingest batch size (a setting)"),
    ("docs/guide/10-bitcoin.md", "1 GB in under 2 minutes", "the ingest goal (a target)"),
    ("docs/guide/10-bitcoin.md", "the cores goal (1.8 times one core)", "issue #17's goal"),
    ("docs/guide/70-cases.md", "less a 0.5-5% fee, within 24 hours", "the mixer link's rule"),
    (
        "docs/guide/80-screen.md",
        "78% indirect exposure, 12% entity, 5% tag, 4% cluster, 1% shared",
        "the synthetic index's reason mix (bench/screen.py KIND_MIX, a setting)",
    ),
    ("docs/guide/80-screen.md", "against the goal of 20 ms", "the screening goal (a target)"),
    (
        "docs/guide/40-intel-hub.md",
        "The target is under 20 ms p99 at 200 requests/s",
        "the lookup latency goal (a target)",
    ),
    (
        "docs/guide/40-intel-hub.md",
        "`Gatekeeper`'s 1 s cache",
        "the key cache's lifetime (a setting)",
    ),
    ("README.md", "with Python 3.11", "the Python version"),
    ("docs/guide/35-tron.md", "the token unit (0.000001 USDT)", "USDT's smallest unit"),
    ("docs/guide/50-cluster.md", "a 0.001 / 0.01 / 0.05 / 0.5 BTC pool", "Whirlpool's pool sizes"),
    ("docs/guide/60-trace.md", "One complaint's payment, 0.19228653 BTC", "an example's amount"),
    ("docs/guide/60-trace.md", "asserts recall >= 0.95", "a test's bound (a rule)"),
    ("docs/guide/50-cluster.md", "not a multiple of 0.0001 BTC", "the change heuristic's rule"),
    ("docs/guide/50-cluster.md", "forwarding ≥ 95 % of what it receives", "the deposit rule"),
)

# page -> (unsourced figures, hand-written console blocks showing output) still on it.
LEGACY: dict[str, tuple[int, int]] = {
    "README.md": (0, 1),
    "docs/guide/10-bitcoin.md": (0, 0),
    "docs/guide/20-simulate.md": (0, 0),
    "docs/guide/30-evm.md": (0, 0),
    "docs/guide/40-intel-hub.md": (0, 6),
    "docs/guide/45-standards.md": (0, 4),
    "docs/guide/50-cluster.md": (0, 2),
    "docs/guide/60-trace.md": (0, 0),
    "docs/guide/70-cases.md": (0, 7),
    "docs/guide/80-screen.md": (0, 1),
}


def is_allowed(page: str, line: str, found: str) -> bool:
    """Whether ``found`` on ``line`` of ``page`` is a listed non-measurement."""
    return any(p == page and phrase in line and found in phrase for p, phrase, _ in NOT_MEASURED)


def legacy(page: str) -> tuple[int, int]:
    return LEGACY.get(page, (0, 0))
