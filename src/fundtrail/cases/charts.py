"""Pictures for the report: the timeline of victim payments, and a money-flow fallback.

matplotlib with the Agg backend (no display). Amounts are exact integers
everywhere else; only the plotted coordinates are converted to floats, for drawing.
"""

from __future__ import annotations

import io
from collections import defaultdict
from datetime import UTC, date
from typing import Any

from fundtrail.cases.views import CampaignView, CashoutView
from fundtrail.model import display
from fundtrail.model.assets import resolve
from fundtrail.pictures.charts import DayBar, bar_chart_svg


def _units(amount: int, asset: str, chain: str | None = None) -> str:
    return display.amount(amount, asset, chain=chain)


def _figure(width: float, height: float) -> Any:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=150, layout="constrained")


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": "fundtrail"})
    return buf.getvalue()


def timeline_svg(view: CampaignView) -> str:
    """Victims' payments per day, one chart per asset, with a y-axis in that asset's units."""
    per: dict[tuple[str, str], dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for c in view.complaints:
        if c.paid_at is not None:
            per[(c.chain, c.asset)][c.paid_at.astimezone(UTC).date()] += c.amount
    if not per:
        return ""
    return "".join(
        bar_chart_svg(
            [DayBar(d, v) for d, v in sorted(days.items())],
            resolve(asset, chain),
            title=f"Victims' payments per day ({resolve(asset, chain).symbol})",
            up_label="paid",
        )
        for (chain, asset), days in sorted(per.items())
    )


def flow_png(view: CampaignView) -> bytes:
    """A simple left-to-right drawing: collection addresses -> exchanges, with amounts.

    Used only when the tracing picture is unavailable.
    """
    collected: dict[str, int] = defaultdict(int)
    for c in view.complaints:
        collected[c.to_address] += c.amount
    exchanges: dict[str, list[CashoutView]] = view.cashouts_by_exchange()
    left = sorted(collected.items(), key=lambda kv: -kv[1])[:12]
    right = list(exchanges.items())[:12]
    rows = max(len(left), len(right), 1)
    fig = _figure(7.5, 0.45 * rows + 1.2)
    ax = fig.add_subplot(1, 1, 1)
    ax.set_axis_off()
    ax.set_xlim(0, 10)
    ax.set_ylim(-1, rows)
    asset = next(iter(view.total_loss), "BTC")
    box = {"boxstyle": "round", "fc": "#fde2e2", "ec": "#b00"}
    ebox = {"boxstyle": "round", "fc": "#e2ecfd", "ec": "#024"}
    for i, (addr, amount) in enumerate(left):
        y = rows - 1 - i * rows / max(len(left), 1)
        ax.text(
            1.5,
            y,
            f"{addr}\n{_units(amount, asset, view.chains[0] if view.chains else None)}",
            ha="center",
            va="center",
            fontsize=6,
            bbox=box,
        )
    for j, (name, outs) in enumerate(right):
        y = rows - 1 - j * rows / max(len(right), 1)
        total = sum(o.amount for o in outs)
        ax.text(
            8.5,
            y,
            f"{name}\n{len(outs)} deposit(s)\n{_units(total, outs[0].asset, outs[0].chain)}",
            ha="center",
            va="center",
            fontsize=6,
            bbox=ebox,
        )
        for i in range(len(left)):
            y0 = rows - 1 - i * rows / max(len(left), 1)
            ax.annotate(
                "",
                xy=(7.3, y),
                xytext=(2.8, y0),
                arrowprops={"arrowstyle": "->", "color": "#888", "lw": 0.5},
            )
    ax.set_title("Money flow: collection addresses → cash-out exchanges (summary)", fontsize=9)
    return _png(fig)
