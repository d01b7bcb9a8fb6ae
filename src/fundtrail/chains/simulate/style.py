"""Laundering and exchange styles: the knobs of the Bitcoin, EVM and TRON simulations.

A figure measured on one gang's habits proves little: real gangs and exchanges differ in
how they move money. ``Style`` holds those habits, one field each; the default is the
simulator's own. A style is written as a preset name, ``key=value`` pairs, or both
(``"long-peels,gang_exchanges=1"``), parsed once by ``Style.parse``:

* ``deposits``: exchanges give a customer one deposit address (``reused``) or a fresh
  one per deposit (``single-use``).
* ``sweep_at`` / ``sweep_chance`` / ``sweep_batch``: an exchange sweeps once this many
  deposits wait (or by chance each block), this many deposits per sweep tx (lo-hi).
* ``unswept_end``: the last share of the run in which exchanges sweep nothing, so
  deposits (the gang's too) are still unswept when the chain ends.
* ``peel_share``: median share of a peel chain's head paid out per hop (smaller:
  longer chains).
* ``coinjoin_share``: share of peel hops that enter a CoinJoin instead (``-1``: the
  scenario's own, 0.25 for the scam and none for ransomware).
* ``consolidate_every`` / ``consolidate_inputs``: blocks between the gang's
  consolidations (lo-hi, ``0-0``: the scenario's own) and most inputs per one.
* ``victims_pay``: ``shared`` (every victim pays one of a few addresses), ``unique``
  (one address per victim) or ``default`` (scam shared, ransomware unique).
* ``gang_exchanges``: how many exchanges a gang cashes out at (0: all it may use).
* ``withdrawal_batch``: customers paid per withdrawal tx (lo-hi; ``1-1``: one by one).
* ``user_deposits``: share of ordinary users' actions that are exchange deposits.
* ``mules_are_customers``: the gang's deposits go to accounts of ordinary users who
  also trade at that exchange (their own deposits share the address).

The account chains (EVM, and TRON, which runs the same economy) read the knobs that mean
something there (``chains/simulate/evm/economy.py`` lists them); each deposit address is
its own sweep there, so ``sweep_at``/``sweep_batch`` and Bitcoin's CoinJoin, consolidation
and victims-pay knobs change nothing on them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Literal

from fundtrail.errors import InvalidInputError

Range = tuple[int, int]


@dataclass(frozen=True, slots=True)
class Style:
    deposits: Literal["reused", "single-use"] = "reused"
    sweep_at: int = 8
    sweep_chance: float = 0.15
    sweep_batch: Range = (40, 250)
    unswept_end: float = 0.0
    peel_share: float = 0.12
    coinjoin_share: float = -1.0
    consolidate_every: Range = (0, 0)
    consolidate_inputs: int = 200
    victims_pay: Literal["default", "shared", "unique"] = "default"
    gang_exchanges: int = 0
    withdrawal_batch: Range = (5, 120)
    user_deposits: float = 0.18
    mules_are_customers: bool = False

    def __post_init__(self) -> None:
        _choice(self.deposits, "deposits", ("reused", "single-use"))
        _choice(self.victims_pay, "victims_pay", ("default", "shared", "unique"))
        _number(self.sweep_at, "sweep_at", 1, 10_000)
        _number(self.sweep_chance, "sweep_chance", 0.0, 1.0)
        _range(self.sweep_batch, "sweep_batch", 1, 2_000)
        _number(self.unswept_end, "unswept_end", 0.0, 0.9)
        _number(self.peel_share, "peel_share", 0.001, 0.6)
        if self.coinjoin_share != -1.0:
            _number(self.coinjoin_share, "coinjoin_share", 0.0, 1.0)
        if self.consolidate_every != (0, 0):
            _range(self.consolidate_every, "consolidate_every", 1, 1_000)
        _number(self.consolidate_inputs, "consolidate_inputs", 2, 2_000)
        _number(self.gang_exchanges, "gang_exchanges", 0, 5)
        _range(self.withdrawal_batch, "withdrawal_batch", 1, 2_000)
        _number(self.user_deposits, "user_deposits", 0.0, 0.7)

    @property
    def is_default(self) -> bool:
        return self == Style()

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def parse(cls, text: str | None) -> Style:
        """A preset name and/or ``key=value`` pairs, comma-separated; later ones win."""
        style = cls()
        for part in (p.strip() for p in (text or "").split(",")):
            if not part:
                continue
            if "=" not in part:
                if part not in PRESETS:
                    raise InvalidInputError(
                        f"unknown style {part!r}; presets: {', '.join(PRESETS)} "
                        f"(or key=value with key one of {', '.join(_FIELDS)})",
                        field="style",
                    )
                style = replace(style, **_overrides(PRESETS[part]))
                continue
            key, _, value = (s.strip() for s in part.partition("="))
            if key not in _FIELDS:
                raise InvalidInputError(
                    f"unknown style knob {key!r}; knobs: {', '.join(_FIELDS)}", field="style"
                )
            style = replace(style, **{key: _value(key, value)})
        return style


_FIELDS = {f.name: f for f in fields(Style)}


def _value(key: str, text: str) -> Any:
    default = getattr(Style(), key)
    try:
        if isinstance(default, bool):
            if text.lower() not in ("true", "false", "yes", "no", "1", "0"):
                raise ValueError(text)
            return text.lower() in ("true", "yes", "1")
        if isinstance(default, tuple):
            lo, sep, hi = text.partition("-")
            return (int(lo), int(hi if sep else lo))
        if isinstance(default, int):
            return int(text)
        if isinstance(default, float):
            return float(text)
    except ValueError:
        raise InvalidInputError(
            f"style knob {key}={text!r} is not a {type(default).__name__}"
            + (" range lo-hi" if isinstance(default, tuple) else ""),
            field="style",
        ) from None
    return text


def _overrides(preset: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for part in preset.split(","):
        key, _, value = part.partition("=")
        out[key] = _value(key, value)
    return out


def _choice(value: object, name: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise InvalidInputError(
            f"style knob {name} must be one of {', '.join(allowed)}, not {value!r}", field="style"
        )


def _number(value: object, name: str, lo: float, hi: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
        raise InvalidInputError(
            f"style knob {name} must be a number from {lo:g} to {hi:g}, not {value!r}",
            field="style",
        )


def _range(value: object, name: str, lo: int, hi: int) -> None:
    ok = isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, int) for v in value)
    if not ok or not lo <= value[0] <= value[1] <= hi:  # type: ignore[index]
        raise InvalidInputError(
            f"style knob {name} must be a range lo-hi within {lo}-{hi}, not {value!r}",
            field="style",
        )


# Each preset pushes one habit seen in the field (or a few that go together).
PRESETS: dict[str, str] = {
    "default": "deposits=reused",
    "single-use-deposits": "deposits=single-use,sweep_at=3,sweep_batch=2-20",
    "slow-sweeps": "sweep_at=60,sweep_chance=0.02,sweep_batch=100-600,unswept_end=0.25",
    "unswept": "unswept_end=0.5",
    "long-peels": "peel_share=0.03",
    "short-peels": "peel_share=0.4",
    "coinjoin-heavy": "coinjoin_share=0.6",
    "no-coinjoin": "coinjoin_share=0",
    "small-consolidations": "consolidate_every=1-2,consolidate_inputs=3",
    "big-consolidations": "consolidate_every=20-40,consolidate_inputs=600",
    "shared-addresses": "victims_pay=shared",
    "unique-addresses": "victims_pay=unique",
    "one-exchange": "gang_exchanges=1",
    "two-exchanges": "gang_exchanges=2",
    "no-batching": "withdrawal_batch=1-1",
    "big-batches": "withdrawal_batch=100-400",
    "busy-exchanges": "user_deposits=0.35",
    "mule-customers": "mules_are_customers=true,user_deposits=0.3",
    "field": "deposits=single-use,peel_share=0.05,coinjoin_share=0.35,victims_pay=unique,"
    "gang_exchanges=2,withdrawal_batch=1-30,unswept_end=0.2,mules_are_customers=true",
}
