"""Request and response bodies of the indicator API (what /openapi.json shows)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from fundtrail.intel.indicators import SightingView
from fundtrail.intel.records import IndicatorRecord
from fundtrail.model.indicators import Category, IndicatorType
from fundtrail.model.tlp import HANDLING, TLP


def _utc(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


UTCTime = Annotated[datetime, AfterValidator(_utc)]
Text = Annotated[str, Field(max_length=10_000)]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Ref = Annotated[str, Field(max_length=2048)]


class IndicatorIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: IndicatorType
    value: str = Field(min_length=1, max_length=2048)
    chain: str | None = Field(
        default=None, max_length=16, description="BTC, ETH, BSC, TRX, ... (addresses and txs)"
    )
    category: Category
    confidence: int = Field(default=50, ge=0, le=100)
    tlp: TLP = TLP.AMBER
    share_with: list[Name] = Field(
        default_factory=list,
        max_length=200,
        description="organisation names that may see it (AMBER, AMBER+STRICT, RED); "
        "CLEAR and GREEN go to every member whatever the list says",
    )
    description: Text = ""
    references: list[Ref] = Field(default_factory=list, max_length=100)
    labels: list[Name] = Field(default_factory=list, max_length=100)
    valid_from: UTCTime | None = None
    valid_until: UTCTime | None = None


class IndicatorPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category: Category | None = None
    confidence: int | None = Field(default=None, ge=0, le=100)
    tlp: TLP | None = None
    share_with: list[Name] | None = Field(default=None, max_length=200)
    description: Text | None = None
    references: list[Ref] | None = Field(default=None, max_length=100)
    labels: list[Name] | None = Field(default=None, max_length=100)
    valid_from: UTCTime | None = None
    valid_until: UTCTime | None = None


class IndicatorOut(BaseModel):
    id: str
    type: IndicatorType
    value: str
    chain: str | None
    category: Category
    confidence: int
    tlp: TLP
    handling: str = Field(description="what the recipient may do with it (TLP 2.0)")
    org: str
    share_with: list[str] = Field(description="shown to the owning organisation only")
    description: str
    references: list[str]
    labels: list[str]
    source: str
    valid_from: datetime | None
    valid_until: datetime | None
    created: datetime
    modified: datetime

    @classmethod
    def of(cls, rec: IndicatorRecord) -> IndicatorOut:
        return cls(
            id=rec.id or "",
            type=rec.type,
            value=rec.value,
            chain=rec.chain,
            category=rec.category,
            confidence=rec.confidence,
            tlp=rec.tlp,
            handling=HANDLING[rec.tlp],
            org=rec.org or "",
            share_with=rec.share_with,
            description=rec.description,
            references=rec.references,
            labels=rec.labels,
            source=rec.source,
            valid_from=rec.valid_from,
            valid_until=rec.valid_until,
            created=rec.created or datetime.now(UTC),
            modified=rec.modified or datetime.now(UTC),
        )


class IndicatorPage(BaseModel):
    items: list[IndicatorOut]
    next: str | None = Field(description="pass as ?next= for the following page")
    total: int | None = Field(default=None, description="with ?count=true")


class SightingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["seen", "false-positive"] = "seen"
    seen_at: UTCTime | None = None
    where: str = Field(default="", max_length=500)
    note: Text = ""


class SightingOut(BaseModel):
    id: str
    indicator_id: str
    kind: str
    seen_at: datetime
    where: str
    note: str
    org: str | None = Field(description="null unless you are the sighting or owning org")

    @classmethod
    def of(cls, view: SightingView) -> SightingOut:
        return cls(
            id=view.id,
            indicator_id=view.indicator_id,
            kind=view.kind,
            seen_at=view.seen_at,
            where=view.where,
            note=view.note,
            org=view.org,
        )


class IdentityOut(BaseModel):
    """Who the key stands for: its organisation, the organisation's kind, the key's role."""

    org: str
    kind: str
    role: str
    key_id: str | None


class OrgOut(BaseModel):
    name: str
    kind: str


class ErrorOut(BaseModel):
    """Every error answer: which kind, a message safe to show, and the field at fault."""

    error: str
    message: str
    field: str | None = None


_ERRORS = {
    400: "malformed request (e.g. JSON that does not parse)",
    401: "missing, invalid, expired or revoked API key",
    403: "the key's role or organisation may not do this",
    404: "no such object, or one the caller may not see",
    409: "already exists",
    413: "body over the size limit",
    415: "body is not JSON",
    422: "a field is invalid (named in 'field')",
}
ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorOut, "description": text} for code, text in _ERRORS.items()
}
"""Pass as ``APIRouter(responses=ERROR_RESPONSES)`` so the spec documents every error."""
