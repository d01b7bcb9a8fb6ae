"""A trace's endpoints as CSV, its cluster graph as GraphML (for Gephi, yEd, Cytoscape)."""

from __future__ import annotations

import csv
import io
from xml.etree import ElementTree as ET

from fundtrail.analysis.trace.result import TraceResult
from fundtrail.errors import InvalidInputError

CSV_COLUMNS = [
    "kind", "amount", "asset", "address", "deposit_address", "cluster_id",
    "entity_label", "entity_category", "txid", "time", "hops",
]  # fmt: skip
NS = "http://graphml.graphdrawing.org/xmlns"


def render(result: TraceResult, fmt: str) -> str:
    if fmt == "csv":
        return to_csv(result)
    if fmt == "graphml":
        return to_graphml(result)
    raise InvalidInputError(f"format must be csv or graphml, not {fmt!r}", field="format")


def to_csv(result: TraceResult) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for e in result.endpoints:
        ent = e.entity or {}
        writer.writerow(
            [e.kind, e.amount, e.asset, e.address or "", e.deposit_address or "",
             "" if e.cluster_id is None else e.cluster_id, ent.get("label", ""),
             ent.get("category", ""), e.txid or "", "" if e.time is None else e.time, e.hops]
        )  # fmt: skip
    return buf.getvalue()


def to_graphml(result: TraceResult) -> str:
    """Nodes = clusters, edges = aggregated flows. Amounts are strings: GraphML's ``long``
    cannot hold wei."""
    ET.register_namespace("", NS)
    root = ET.Element(f"{{{NS}}}graphml")
    keys = [("label", "node"), ("category", "node"), ("role", "node"), ("amount", "node"),
            ("amount", "edge"), ("asset", "edge"), ("txs", "edge")]  # fmt: skip
    for name, target in keys:
        ET.SubElement(
            root, f"{{{NS}}}key",
            {"id": f"{target[0]}_{name}", "for": target, "attr.name": name, "attr.type": "string"},
        )  # fmt: skip
    graph = ET.SubElement(root, f"{{{NS}}}graph", {"id": "trace", "edgedefault": "directed"})
    for n in result.nodes:
        el = ET.SubElement(graph, f"{{{NS}}}node", {"id": f"c{n.cluster_id}"})
        for key, value in (("label", n.label), ("category", n.category), ("role", n.role),
                           ("amount", n.amount)):  # fmt: skip
            if value is not None:
                ET.SubElement(el, f"{{{NS}}}data", {"key": f"n_{key}"}).text = str(value)
    for i, e in enumerate(result.edges):
        el = ET.SubElement(
            graph,
            f"{{{NS}}}edge",
            {"id": f"e{i}", "source": f"c{e.source}", "target": f"c{e.target}"},
        )
        for key, value in (("amount", e.amount), ("asset", e.asset), ("txs", e.txs)):
            ET.SubElement(el, f"{{{NS}}}data", {"key": f"e_{key}"}).text = str(value)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
