"""TLP marking definitions as the STIX world writes them, mapped to one TLP level.

Three families of ids are in use: the OASIS TLP 2.0 objects (what we export), the
four TLP 1.0 objects predefined by STIX 2.1 itself, and OpenCTI's, which reuse the
TLP 1.0 ids (WHITE read as CLEAR) and add one for AMBER+STRICT. A marking that claims to
be TLP under any other id is refused: a guessed level could leak RED data as GREEN.
"""

from __future__ import annotations

import re
from typing import Any

from fundtrail.errors import InvalidInputError
from fundtrail.model.tlp import TLP

__all__ = ["KNOWN_TLP_MARKINGS", "marking_table", "tlp_of"]

KNOWN_TLP_MARKINGS: dict[str, TLP] = {
    # OASIS TLP 2.0 (cti-stix-common-objects/extension-definition-specifications/tlp-2.0)
    "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487": TLP.CLEAR,
    "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb": TLP.GREEN,
    "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421": TLP.AMBER,
    "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003": TLP.AMBER_STRICT,
    "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1": TLP.RED,
    # STIX 2.1 section 7.2.1.4 predefined TLP 1.0 markings (also OpenCTI's ids)
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": TLP.CLEAR,  # TLP:WHITE
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": TLP.GREEN,
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": TLP.AMBER,
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": TLP.RED,
    # OpenCTI's own TLP:AMBER+STRICT
    "marking-definition--826578e1-40ad-459f-bc73-ede076f81f37": TLP.AMBER_STRICT,
}
_TLP2_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
_TLP_WORD = re.compile(r"^\s*tlp\b", re.IGNORECASE)


def _looks_like_tlp(obj: dict[str, Any]) -> bool:
    texts = [
        obj.get("definition_type"),
        obj.get("name"),
        obj.get("x_opencti_definition_type"),
        obj.get("x_opencti_definition"),
    ]
    if any(isinstance(t, str) and _TLP_WORD.match(t) for t in texts):
        return True
    definition = obj.get("definition")
    if isinstance(definition, dict) and any(str(k).lower() == "tlp" for k in definition):
        return True
    return _TLP2_EXTENSION in (obj.get("extensions") or {})


def _label(obj: dict[str, Any]) -> str:
    name = obj.get("name") or obj.get("definition_type") or "unnamed"
    return f"{obj['id'][:80]} ({str(name)[:40]})"


def marking_table(objects: list[dict[str, Any]]) -> dict[str, TLP | None]:
    """Every marking a bundle may reference: its TLP level, or None for non-TLP ones.

    Raises InvalidInputError for a TLP-like marking definition under an unknown id.
    """
    table: dict[str, TLP | None] = dict(KNOWN_TLP_MARKINGS)
    for obj in objects:
        if obj.get("type") != "marking-definition" or obj["id"] in KNOWN_TLP_MARKINGS:
            continue
        if _looks_like_tlp(obj):
            raise InvalidInputError(
                f"marking {_label(obj)} looks like a TLP marking but its id is none of the "
                "OASIS TLP 2.0, STIX TLP 1.0 or OpenCTI TLP ids; refusing the bundle rather "
                "than guessing who may see it",
                field="object_marking_refs",
            )
        table[obj["id"]] = None  # a statement or other non-TLP marking
    return table


def tlp_of(obj: dict[str, Any], table: dict[str, TLP | None]) -> TLP | None:
    """The strictest TLP among an object's object and granular markings, or None."""
    refs = list(obj.get("object_marking_refs") or [])
    for granular in obj.get("granular_markings") or []:
        if isinstance(granular, dict) and isinstance(granular.get("marking_ref"), str):
            refs.append(granular["marking_ref"])
    levels: list[TLP] = []
    for ref in refs:
        if not isinstance(ref, str) or ref not in table:
            raise InvalidInputError(
                f"{obj['id'][:80]} is marked with {str(ref)[:80]}, which is neither a known "
                "TLP marking nor defined in the bundle; refusing rather than guessing its level",
                field="object_marking_refs",
            )
        level = table[ref]
        if level is not None:
            levels.append(level)
    return max(levels, key=lambda t: t.rank) if levels else None
