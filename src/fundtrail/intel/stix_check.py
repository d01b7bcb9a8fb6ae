"""Run the OASIS stix2-validator in strict mode over what we produce.

Used by the tests on every exported bundle and TAXII-served object, and by
``fundtrail intel validate``. One finding is waived, narrowly: the validator's
``uuid-check`` knows only the spec's own observable types and asks every other type
for a UUIDv4, whereas spec 2.1 section 2.9 asks observables, custom ``new-sco`` ones
included, for a UUIDv5. We waive it only for objects that declare a ``new-sco``
extension and whose id *is* a UUIDv5, so nothing else slips through.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from fundtrail.errors import FundtrailError

__all__ = ["stix_validation_errors"]

_WAIVED_CODE = "{103}"  # uuid-check


def _is_custom_sco_v5(obj: dict[str, Any]) -> bool:
    exts = obj.get("extensions") or {}
    declared = any(
        isinstance(e, dict) and e.get("extension_type") == "new-sco" for e in exts.values()
    )
    try:
        return declared and uuid.UUID(str(obj["id"]).split("--", 1)[1]).version == 5
    except (ValueError, IndexError, KeyError):
        return False


def stix_validation_errors(
    data: dict[str, Any] | list[dict[str, Any]], *, enforce_refs: bool = True
) -> list[str]:
    """Findings of ``stix2-validator --strict [--enforce-refs]`` (empty list: valid).

    ``data`` is a bundle, one object, or a list of objects (wrapped in a bundle). Pass
    ``enforce_refs=False`` for objects served alone (a TAXII page of indicators refers to
    marking definitions and identities every client knows or fetches separately).
    """
    try:
        from stix2validator import ValidationOptions, validate_string
    except ImportError as exc:  # a dev/test extra, not a runtime dependency
        raise FundtrailError("stix2-validator is not installed (pip install '.[dev]')") from exc
    if isinstance(data, list):
        data = {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": data}
    objects = data.get("objects", [data]) if data.get("type") == "bundle" else [data]
    waivable = {o.get("id") for o in objects if isinstance(o, dict) and _is_custom_sco_v5(o)}
    opts = ValidationOptions(strict=True, version="2.1", enforce_refs=enforce_refs, silent=True)
    result = validate_string(json.dumps(data), opts)
    found: list[str] = []
    for err in [*result.errors, *result.warnings]:
        text = str(getattr(err, "message", err))
        oid, _, rest = text.partition(": ")
        if oid in waivable and rest.startswith(_WAIVED_CODE) and "UUIDv4" in rest:
            continue
        found.append(text)
    if not found and not result.is_valid and not waivable:
        found.append("invalid (the validator gave no detail)")
    return found
