// The interactive money-flow graph: fetches the trace JSON (same as `fundtrail trace --json`)
// and draws it with Cytoscape. Every label is set as text (never as HTML).
(function () {
  "use strict";
  const box = document.getElementById("graph");
  if (!box || typeof cytoscape === "undefined") return;
  const status = document.getElementById("status");
  const details = document.getElementById("details");
  const colours = { exchange: "#0b5fff", service: "#0b5fff", scam: "#d3272f", "investment-scam": "#d3272f",
    ransomware: "#9b0d14", mixer: "#7b3fb3", sanctions: "#000000", victim: "#2e7d32", start: "#2e7d32" };
  let cy = null;

  function text(el, value) { el.textContent = value == null ? "" : String(value); return el; }
  function row(cells) {
    const tr = document.createElement("tr");
    cells.forEach(c => tr.appendChild(text(document.createElement("td"), c)));
    return tr;
  }
  function fmt(amount, asset) { return String(amount) + " " + (asset || ""); }

  const MAX_NODES = 80;  // a readable graph: the largest flows, every start, the top cash-outs

  function pick(all) {
    const must = all.filter(n => n.role === "start");
    const ends = all.filter(n => n.role === "cash-out").sort((a, b) => b.amount - a.amount);
    const rest = all.filter(n => n.role !== "start" && n.role !== "cash-out")
      .sort((a, b) => b.amount - a.amount);
    const kept = must.concat(ends.slice(0, MAX_NODES / 2));
    return kept.concat(rest.slice(0, Math.max(0, MAX_NODES - kept.length)));
  }

  function elements(data) {
    const nodes = pick(data.graph.nodes || []).map(n => ({ data: {
      id: String(n.id),
      label: n.label || ("cluster " + n.cluster_id + " · " + n.addresses + " addr"),
      category: n.category || (n.role === "start" ? "start" : ""),
      kind: n.role || "", raw: n } }));
    const ids = new Set(nodes.map(n => n.data.id));
    const edges = (data.graph.edges || []).filter(e => ids.has(String(e.source)) && ids.has(String(e.target)))
      .map((e, i) => ({ data: { id: "e" + i, source: String(e.source), target: String(e.target),
        label: fmt(e.amount, e.asset), raw: e } }));
    return nodes.concat(edges);
  }

  function showDetails(raw) {
    details.replaceChildren(text(document.createElement("h2"), "Details"));
    const t = document.createElement("table"); t.className = "kv";
    Object.keys(raw).forEach(k => {
      const v = raw[k];
      t.appendChild(row([k, typeof v === "object" ? JSON.stringify(v) : v]));
    });
    details.appendChild(t);
  }

  function endpoints(data) {
    const body = document.querySelector("#endpoints tbody");
    body.replaceChildren();
    (data.endpoints || []).forEach(e => body.appendChild(row([
      e.kind, e.entity ? e.entity.label + " (" + e.entity.category + ")" : "",
      e.deposit_address || e.address || "", fmt(e.amount, e.asset), e.hops, e.txid || ""])));
  }

  function draw(data) {
    if (cy) cy.destroy();
    cy = cytoscape({ container: box, elements: elements(data), wheelSensitivity: 0.3,
      style: [
        { selector: "node", style: { "label": "data(label)", "font-size": 10, "text-wrap": "ellipsis",
          "text-max-width": 140, "background-color": "#8a97a8", "width": 26, "height": 26,
          "text-valign": "bottom", "text-margin-y": 4 } },
        ...Object.keys(colours).map(c => ({ selector: 'node[category = "' + c + '"]',
          style: { "background-color": colours[c] } })),
        { selector: 'node[kind = "cash-out"], node[kind = "held"], node[kind = "coinjoin"]', style: { "shape": "round-rectangle",
          "border-width": 3, "border-color": "#ffb000", "width": 34, "height": 34 } },
        { selector: "edge", style: { "label": "data(label)", "font-size": 9, "curve-style": "bezier",
          "target-arrow-shape": "triangle", "width": 1.6, "line-color": "#9aa7b6",
          "target-arrow-color": "#9aa7b6", "text-rotation": "autorotate", "text-background-color": "#fff",
          "text-background-opacity": 0.8 } },
        { selector: ":selected", style: { "border-width": 3, "border-color": "#0b5fff" } },
      ],
      layout: { name: "breadthfirst", directed: true, spacingFactor: 1.15 } });
    window.cy = cy;  // for the console and for browser tests
    cy.on("tap", "node, edge", ev => showDetails(ev.target.data("raw")));
    endpoints(data);
    const s = data.summary || {};
    const total = (data.graph.nodes || []).length;
    const shown = cy.nodes().length;
    text(status, (data.endpoints || []).length + " endpoints · " +
      (shown < total ? "showing the " + shown + " largest of " + total + " clusters" : total + " clusters") +
      (s.method ? " · " + s.method : ""));
    document.getElementById("png").onclick = function () { this.href = cy.png({ full: true, scale: 2, bg: "#ffffff" }); };
  }

  function load(url) {
    text(status, "loading…");
    fetch(url, { credentials: "same-origin" }).then(r => r.json().then(j => ({ ok: r.ok, j })))
      .then(({ ok, j }) => { if (!ok) throw new Error(j.message || "trace failed"); draw(j); })
      .catch(err => text(status, String(err.message || err)));
  }

  document.getElementById("fit").onclick = () => cy && cy.fit();
  document.getElementById("more-hops").onclick = () => {
    const hops = document.querySelector('input[name="hops"]');
    hops.value = String(Number(hops.value || 1) + 1);
    document.getElementById("trace-form").submit();
  };
  load(box.dataset.src);
})();
