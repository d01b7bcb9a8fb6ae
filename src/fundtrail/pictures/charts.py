"""Bar charts over time as SVG, with a y-axis in the asset's units and dated x ticks.

Used by the address page (received up, sent down per day), the campaign page and the
case file (victims' payments per day). The SVG holds only numbers, dates and the
display layer's text, escaped, so a page may inline it. Axis ticks are computed on
integers in base units (1, 2 or 5 times a power of ten), so a tick label is an exact
amount, never a rounded float. Text is 12 user units high: at the report's width (the
chart is 720 units wide on 180 mm of A4) that prints at 8.5 pt.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from html import escape

from fundtrail.model.assets import Asset
from fundtrail.model.display import unit_label, units

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 88, 12, 28, 34
FONT = 12


@dataclass(frozen=True, slots=True)
class DayBar:
    day: date
    up: int  # base units (received, paid)
    down: int = 0  # base units (sent), drawn below the axis


def nice_step(peak: int, ticks: int = 4) -> int:
    """The smallest 1/2/5 x 10^k (base units) with at most ``ticks`` steps up to ``peak``."""
    target = max(1, -(-peak // ticks))
    base = 10 ** (len(str(target)) - 1)
    for m in (1, 2, 5, 10):
        if m * base >= target:
            return m * base
    return 10 * base  # pragma: no cover


def bar_chart_svg(
    bars: Sequence[DayBar],
    asset: Asset,
    *,
    title: str,
    up_label: str,
    down_label: str | None = None,
    css_class: str = "chart",
) -> str:
    """A dated bar chart; ``down`` values (if ``down_label``) hang below the zero line."""
    if not bars:
        return ""
    two_sided = down_label is not None
    peak_up = max(b.up for b in bars)
    peak_down = max(b.down for b in bars) if two_sided else 0
    step = nice_step(max(peak_up, peak_down, 1), 3 if two_sided else 4)
    top_ticks = -(-max(peak_up, 1) // step)
    low_ticks = -(-peak_down // step) if two_sided and peak_down else 0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    per_tick = plot_h / (top_ticks + low_ticks)
    zero_y = TOP + top_ticks * per_tick
    first, last = bars[0].day.toordinal(), bars[-1].day.toordinal()
    span = max(last - first + 1, 1)
    bar_w = max(1.5, plot_w / span - 1)

    def x_of(d: date) -> float:
        return LEFT + (d.toordinal() - first) * plot_w / span

    def h_of(v: int) -> float:
        return v * per_tick / step

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{escape(css_class)}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" font-family="DejaVu Sans, sans-serif" '
        f'font-size="{FONT}">',
        f'<text x="{LEFT}" y="{FONT + 4}" font-weight="bold">{escape(title)}</text>',
    ]
    unit = escape(unit_label(asset))
    out.append(
        f'<text transform="translate({FONT + 2},{TOP + plot_h / 2:.1f}) rotate(-90)" '
        f'text-anchor="middle" fill="#444">{unit} per day</text>'
    )
    for i in range(-low_ticks, top_ticks + 1):
        y = zero_y - i * per_tick
        label = units(abs(i) * step, asset)
        out.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{"#888" if i == 0 else "#e3e7ec"}"/>'
            f'<text x="{LEFT - 6}" y="{y + FONT / 3:.1f}" text-anchor="end" '
            f'fill="#444">{escape(label)}</text>'
        )
    for b in bars:
        x = x_of(b.day)
        iso = b.day.isoformat()
        if b.up:
            out.append(
                f'<rect class="up" fill="#2e7d32" x="{x:.1f}" y="{zero_y - h_of(b.up):.1f}" '
                f'width="{bar_w:.1f}" height="{h_of(b.up):.1f}"><title>{iso}: {escape(up_label)} '
                f"{escape(units(b.up, asset))} {unit}</title></rect>"
            )
        if two_sided and b.down:
            out.append(
                f'<rect class="down" fill="#d3272f" x="{x:.1f}" y="{zero_y:.1f}" '
                f'width="{bar_w:.1f}" height="{h_of(b.down):.1f}"><title>{iso}: '
                f"{escape(down_label or '')} {escape(units(b.down, asset))} {unit}</title></rect>"
            )
    out += _x_ticks(bars[0].day, bars[-1].day, x_of, bar_w)
    out.append(_legend(up_label, down_label if two_sided else None))
    out.append("</svg>")
    return "".join(out)


def _x_ticks(first: date, last: date, place: Callable[[date], float], bar_w: float) -> list[str]:
    span = last.toordinal() - first.toordinal()
    n = min(5, span) if span else 0
    days = sorted(
        {date.fromordinal(first.toordinal() + round(i * span / n)) for i in range(n + 1)}
        if n
        else {first}
    )
    y = HEIGHT - BOTTOM + FONT + 6
    out = []
    for i, d in enumerate(days or [first]):
        anchor = "start" if i == 0 else "end" if i == len(days) - 1 else "middle"
        x = place(d) + (bar_w / 2 if anchor == "middle" else bar_w if anchor == "end" else 0)
        out.append(f'<text x="{x:.1f}" y="{y}" text-anchor="{anchor}" fill="#444">{d}</text>')
    out.append(f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 2}" text-anchor="end" fill="#666">'
               "day (UTC)</text>")  # fmt: skip
    return out


def _legend(up: str, down: str | None) -> str:
    more = f' <tspan fill="#d3272f">■ {escape(down)}</tspan>' if down else ""
    return (
        f'<text x="{WIDTH - RIGHT}" y="{FONT + 4}" text-anchor="end" fill="#2e7d32">'
        f"■ {escape(up)}{more}</text>"
    )
