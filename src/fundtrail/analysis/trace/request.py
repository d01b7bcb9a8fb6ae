"""What a trace is asked to do: one typed, validated request instead of relayed keywords.

The CLI, the API, the web UI and cases build a ``TraceRequest`` (``TraceRequest.parse``
for raw text such as query strings) and hand it to ``service.trace``. Every check of a
trace's options lives in ``__post_init__``, so a request that exists is a valid one:
nothing downstream re-validates, and the API's query parameters are validated by the
same code as the CLI's flags.

Two kinds of floors, not to be confused:

* ``hops`` bounds how far the walk goes (cluster changes; a peel chain is one hop);
* ``min_share`` / ``min_amount`` bound what is *listed*: a place (a deposit address,
  a wallet) whose traced money is below both floors is not listed one by one but summed
  into the result's ``dispersed`` totals, so that the endpoints plus the dispersed
  totals still add up exactly to what was traced.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Literal, get_args

from fundtrail.errors import InvalidInputError
from fundtrail.model.identity import Identity

Direction = Literal["forward", "backward"]
Method = Literal["poison", "haircut", "fifo"]
DIRECTIONS: tuple[Direction, ...] = get_args(Direction)
METHODS: tuple[Method, ...] = get_args(Method)

DEFAULT_HOPS = 10
MAX_HOPS = 50
# a place holding less than 0.1% of the traced amount is summed into "dispersed"
DEFAULT_MIN_SHARE = 0.001

TimeLike = int | str | datetime | None


@dataclass(frozen=True, slots=True)
class TraceRequest:
    """One trace: where from, which way, by which method, how far, what to list.

    ``starts`` are TXID:VOUT, TXHASH:LOGINDEX, TXHASH (every output or transfer of the
    tx) or an address (every payment it received in the window). ``amounts`` caps the
    taint of a start (a complaint's reported amount when the victim's payment was only
    part of an output). ``viewer`` is who the answer is for: the intel it may see names
    clusters (attribution is read per viewer); None reads only the workspace's tags and
    behaviour.
    """

    chain: str
    starts: tuple[str, ...]
    direction: Direction = "forward"
    method: Method = "haircut"
    hops: int = DEFAULT_HOPS
    min_share: float = DEFAULT_MIN_SHARE
    min_amount: int = 0
    since: int | None = None
    until: int | None = None
    amounts: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    viewer: Identity | None = None

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            raise InvalidInputError(
                f"direction must be forward or backward, not {self.direction!r}",
                field="direction",
            )
        if self.method not in METHODS:
            raise InvalidInputError(
                f"method must be poison, haircut or fifo, not {self.method!r}", field="method"
            )
        _check_int(self.hops, "hops", 0, MAX_HOPS)
        _check_int(self.min_amount, "min_amount", 0, None)
        if isinstance(self.min_share, bool) or not isinstance(self.min_share, (int, float)):
            raise InvalidInputError("min_share must be a number", field="min_share")
        if not 0.0 <= float(self.min_share) <= 1.0:
            raise InvalidInputError(
                f"min_share must be between 0 and 1, not {self.min_share}", field="min_share"
            )
        if not self.starts or not all(isinstance(s, str) and s.strip() for s in self.starts):
            raise InvalidInputError("give at least one starting point (--from)", field="from")
        if self.since is not None and self.until is not None and self.since > self.until:
            raise InvalidInputError("since is after until", field="since")
        for start, cap in self.amounts.items():
            if isinstance(cap, bool) or not isinstance(cap, int) or cap < 0:
                raise InvalidInputError(
                    f"amount of start {start!r} must be a whole number of base units",
                    field="amount",
                )
        if not isinstance(self.amounts, MappingProxyType):
            object.__setattr__(self, "amounts", MappingProxyType(dict(self.amounts)))

    @classmethod
    def parse(
        cls,
        chain: str,
        starts: Sequence[str],
        *,
        direction: str = "forward",
        method: str = "haircut",
        hops: int = DEFAULT_HOPS,
        min_share: float = DEFAULT_MIN_SHARE,
        min_amount: int = 0,
        since: TimeLike = None,
        until: TimeLike = None,
        amounts: Mapping[str, int] | None = None,
        viewer: Identity | None = None,
    ) -> TraceRequest:
        """A request from raw values (flags, query strings): dates parsed, text checked."""
        return cls(
            chain=chain,
            starts=tuple(s.strip() for s in starts),
            direction=direction,  # type: ignore[arg-type]  # checked in __post_init__
            method=method,  # type: ignore[arg-type]
            hops=hops,
            min_share=min_share,
            min_amount=min_amount,
            since=to_time(since, "since"),
            until=to_time(until, "until"),
            amounts=dict(amounts or {}),
            viewer=viewer,
        )

    def cap(self, start: str) -> int | None:
        """The most taint ``start`` may carry (None: the whole output or transfer)."""
        value = self.amounts.get(start)
        return int(value) if value else None

    def floor(self, traced: int) -> int:
        """Smallest amount a place must hold to be listed, for ``traced`` base units traced."""
        return max(int(self.min_amount), int(traced * self.min_share))

    def to_dict(self) -> dict[str, object]:
        """The options as the result's summary reports them."""
        return {
            "direction": self.direction,
            "method": self.method,
            "hops": self.hops,
            "min_share": self.min_share,
            "min_amount": self.min_amount,
            "since": self.since,
            "until": self.until,
        }


def _check_int(value: object, name: str, lo: int, hi: int | None) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError(f"{name} must be a whole number, not {value!r}", field=name)
    if value < lo or (hi is not None and value > hi):
        span = f"between {lo} and {hi}" if hi is not None else f"{lo} or more"
        raise InvalidInputError(f"{name} must be {span}, not {value}", field=name)


def to_time(value: TimeLike, field: str) -> int | None:
    """Unix seconds from an int, an ISO date/time string or a datetime (UTC if naive)."""
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit():
            return int(text)
        try:
            value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidInputError(
                f"{field} {text!r} is not a date (YYYY-MM-DD[THH:MM:SS]) or unix time", field=field
            ) from None
    if not isinstance(value, datetime):
        raise InvalidInputError(f"{field} must be a date or unix time", field=field)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp())
