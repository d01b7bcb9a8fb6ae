"""Every amount and time a person sees goes through ``fundtrail.model.display``.

Round one showed satoshi labelled BTC on the trace page, wei as "ETH (base units)" in
``simulate`` and txids cut to 14 characters with "…": each was a local formatter. This
test fails when such a path comes back anywhere in the sources: a direct call of
``format_units`` outside ``model/``, a per-module decimals table (``decimals_of``,
``_DECIMALS``), an ad-hoc division by ``10**8`` or ``10 ** decimals``, or an identifier
sliced and ended with "…".
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[3] / "src" / "fundtrail"

FORBIDDEN = {
    "format_units outside model/ (use fundtrail.model.display)": re.compile(r"\bformat_units\b"),
    "a local decimals table (use fundtrail.model.assets)": re.compile(
        r"\bdecimals_of\b|_DECIMALS\s*=|asset_decimals"
    ),
    "an ad-hoc division into coins (use display.units)": re.compile(
        r"(?<!/)/\s*(?:1e8|100_?000_?000\b|10\s*\*\*\s*(?:8|18|6|\w*decimals))"
    ),
    "an identifier cut with an ellipsis (wrap it; identifiers are copied)": re.compile(
        r"\[:\d+\][^\n]{0,12}(?:…|\\u2026|&hellip;)"
    ),
    "a Unix time formatted by hand (use display.time_utc)": re.compile(
        r"fromtimestamp\([^)]*\)\.strftime|utcfromtimestamp"
    ),
}


def _sources() -> list[Path]:
    files = [p for p in SRC.rglob("*") if p.suffix in {".py", ".html", ".js", ".jinja"}]
    return sorted(p for p in files if "model" not in p.relative_to(SRC).parts[:1])


@pytest.mark.parametrize("what", sorted(FORBIDDEN))
def test_no_old_display_path(what: str) -> None:
    pattern = FORBIDDEN[what]
    hits = [
        f"{path.relative_to(SRC)}:{n}: {line.strip()}"
        for path in _sources()
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert not hits, f"{what}:\n" + "\n".join(hits)


def test_the_patterns_catch_the_old_code() -> None:
    # the round-one lines this test exists for: each must still be caught
    old = {
        "format_units outside model/ (use fundtrail.model.display)": "format_units(v, 8)",
        "a local decimals table (use fundtrail.model.assets)": "scale = 10 ** decimals_of(a)",
        "an ad-hoc division into coins (use display.units)": "ys = [p[1] / 10**8 for p]",
        "an identifier cut with an ellipsis (wrap it; identifiers are copied)": ('f"{addr[:14]}…"'),
        "a Unix time formatted by hand (use display.time_utc)": (
            "datetime.fromtimestamp(ts, UTC).strftime('%Y')"
        ),
    }
    assert set(old) == set(FORBIDDEN)
    for what, line in old.items():
        assert FORBIDDEN[what].search(line), what
