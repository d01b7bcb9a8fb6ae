"""Private lookups under /api/v1/lookup: k-anonymity prefix buckets and a Bloom filter."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response

from fundtrail.intel.lookup import LookupService
from fundtrail.model.identity import Identity
from fundtrail.server.auth import require_identity
from fundtrail.server.deps import remote_addr

router = APIRouter(prefix="/api/v1/lookup", tags=["lookup"])


async def lookup_service(request: Request) -> LookupService:
    return LookupService(request.app.state.store)


@router.get(
    "/bloom",
    response_class=Response,
    responses={
        200: {
            "content": {"application/octet-stream": {}},
            "description": "FTBLOOM1 file; header JSON states m, k, n and fp_rate",
        }
    },
)
def get_bloom(
    fp_rate: float = Query(0.001, gt=1e-9, lt=0.5, description="target false-positive rate"),
    who: Identity = Depends(require_identity),
    svc: LookupService = Depends(lookup_service),
    remote: str | None = Depends(remote_addr),
) -> Response:
    """A Bloom filter of the SHA-256 of every value you may see, for offline screening."""
    bloom = svc.bloom(who, fp_rate, remote)
    return Response(
        bloom.to_bytes(),
        media_type="application/octet-stream",
        headers={
            "X-Bloom-Items": str(bloom.n),
            "X-Bloom-Bits": str(bloom.m),
            "X-Bloom-Hashes": str(bloom.k),
            "X-Bloom-False-Positive-Rate": f"{bloom.fp_rate:.3g}",
            "Content-Disposition": 'attachment; filename="fundtrail.bloom"',
        },
    )


@router.get("/{prefix}")
def get_prefix(
    prefix: str,
    who: Identity = Depends(require_identity),
    svc: LookupService = Depends(lookup_service),
    remote: str | None = Depends(remote_addr),
) -> dict[str, Any]:
    """Every visible hash starting with these 5 hex digits, with its categories."""
    return svc.by_prefix(who, prefix, remote)
