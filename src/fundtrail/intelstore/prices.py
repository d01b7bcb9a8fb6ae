"""Imported market prices: one row per asset, currency and time bucket (day or hour).

Prices are per market symbol (``BTC``, ``ETH``, ``USDT``), not per chain: USDT on TRON
and on Ethereum trade at one price. ``price`` is decimal text (exact as the file gave
it); ``interval`` is the bucket length in seconds, so an hourly row wins over a daily one
for a transfer inside that hour.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from fundtrail.intelstore.base import Base


class Price(Base):
    __tablename__ = "prices"

    symbol: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    currency: Mapped[str] = mapped_column(sa.String(10), primary_key=True)
    interval: Mapped[int] = mapped_column(sa.Integer, primary_key=True)  # seconds
    ts: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)  # bucket start, Unix UTC
    price: Mapped[str] = mapped_column(sa.String(40))
    source: Mapped[str] = mapped_column(sa.String(100))
