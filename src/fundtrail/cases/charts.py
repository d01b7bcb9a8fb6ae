"""Pictures for the report: the timeline of victim payments, and a money-flow fallback.

matplotlib with the Agg backend (no display). Amounts are exact integers
everywhere else; only the plotted coordinates are converted to floats, for drawing.
"""

from __future__ import annotations

import io
from collections import defaultdict
from datetime import datetime
from typing import Any

from fundtrail.cases.views import CampaignView, CashoutView
from fundtrail.model.amounts import format_units
from fundtrail.model.chains import get_chain

DECIMALS = {"USDT": 6, "USDC": 6}


def decimals_of(asset: str) -> int:
    if asset in DECIMALS:
        return DECIMALS[asset]
    try:
        return get_chain(asset).decimals
    except Exception:
        return 18


def _units(amount: int, asset: str) -> str:
    return f"{format_units(amount, decimals_of(asset))} {asset}"


def _figure(width: float, height: float) -> Any:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=150, layout="constrained")


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": "fundtrail"})
    return buf.getvalue()


def timeline_png(view: CampaignView) -> bytes:
    """Each payment as a dot (when, how much) and the cumulative loss per asset."""
    fig = _figure(7.5, 3.2)
    ax = fig.add_subplot(1, 1, 1)
    by_asset: dict[str, list[tuple[datetime, int]]] = defaultdict(list)
    for c in view.complaints:
        if c.paid_at is not None:
            by_asset[c.asset].append((c.paid_at, c.amount))
    if not by_asset:
        ax.text(0.5, 0.5, "no payment times known", ha="center", va="center")
        ax.set_axis_off()
        return _png(fig)
    twin = ax.twinx()
    for asset, points in sorted(by_asset.items()):
        points.sort()
        scale = 10 ** decimals_of(asset)
        xs = [p[0] for p in points]
        ys = [p[1] / scale for p in points]
        ax.scatter(xs, ys, s=12, alpha=0.7, label=f"payment ({asset})")
        running, cum = 0, []
        for _t, v in points:
            running += v
            cum.append(running / scale)
        twin.step(xs, cum, where="post", linewidth=1.5, label=f"cumulative ({asset})")
    ax.set_ylabel("payment")
    twin.set_ylabel("cumulative loss")
    ax.set_title(f"Victim payments to campaign {view.id}")
    handles = ax.get_legend_handles_labels()
    more = twin.get_legend_handles_labels()
    ax.legend(handles[0] + more[0], handles[1] + more[1], loc="upper left", fontsize=7)
    fig.autofmt_xdate()
    return _png(fig)


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
            f"{addr[:14]}…\n{format_units(amount, decimals_of(asset))} {asset}",
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
            f"{name}\n{len(outs)} deposit(s)\n{_units(total, outs[0].asset)}",
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
