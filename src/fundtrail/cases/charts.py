"""The report's timeline: victims' payments per day, one chart per asset, as SVG.

Drawn by :mod:`fundtrail.pictures.charts` (y-axis in the asset's units, dated ticks);
the money-flow picture comes from :mod:`fundtrail.pictures.dot`.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date

from fundtrail.cases.views import CampaignView
from fundtrail.model.assets import resolve
from fundtrail.pictures.charts import HEIGHT, WIDTH, DayBar, bar_chart_svg


def timeline_svg(view: CampaignView) -> str:
    """Victims' payments per day, one chart per asset, with a y-axis in that asset's units."""
    per: dict[tuple[str, str], dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for c in view.complaints:
        if c.paid_at is not None:
            per[(c.chain, c.asset)][c.paid_at.astimezone(UTC).date()] += c.amount
    if not per:
        return ""
    charts = [
        bar_chart_svg(
            [DayBar(d, v) for d, v in sorted(days.items())],
            resolve(asset, chain),
            title=f"Victims' payments per day ({resolve(asset, chain).symbol})",
            up_label="paid",
        )
        for (chain, asset), days in sorted(per.items())
    ]
    if len(charts) == 1:
        return charts[0]
    stacked = "".join(  # one file: each asset's chart below the previous one
        c.replace("<svg ", f'<svg y="{i * HEIGHT}" ', 1) for i, c in enumerate(charts)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" '
        f'height="{HEIGHT * len(charts)}">{stacked}</svg>'
    )
