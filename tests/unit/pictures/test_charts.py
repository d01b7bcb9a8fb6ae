"""Charts with a y-axis in the asset's units and dated x ticks (round one had neither)."""

from __future__ import annotations

import re
from datetime import date

from fundtrail.model.assets import asset, native
from fundtrail.pictures.charts import DayBar, bar_chart_svg, nice_step


def test_ticks_are_exact_round_amounts() -> None:
    assert [nice_step(v) for v in (1, 7, 174653173, 10**20)] == [1, 2, 50_000_000, 5 * 10**19]


def test_axis_in_coins_with_unit_and_dates() -> None:
    bars = [DayBar(date(2024, 3, 1), 174_653_173, 0), DayBar(date(2024, 3, 9), 20_000_000, 5)]
    svg = bar_chart_svg(bars, native("BTC"), title="Activity", up_label="received",
                        down_label="sent")  # fmt: skip
    labels = re.findall(r'text-anchor="end" fill="#444">([^<]+)</text>', svg)
    assert {"0", "1", "2"} <= set(labels)  # 1 BTC steps up to 1.75 BTC
    assert "BTC per day" in svg and "2024-03-01" in svg and "2024-03-09" in svg
    assert "received 1.74653173 BTC" in svg  # the bar's tooltip, exact


def test_one_day_and_token_decimals() -> None:
    svg = bar_chart_svg([DayBar(date(2024, 1, 1), 2_500_000)], asset("TRX", "USDT"),
                        title="Payments", up_label="paid")  # fmt: skip
    assert "USDT per day" in svg and "paid 2.5 USDT" in svg and "2024-01-01" in svg
