// The investigator's canvas: the money's path left to right (Cytoscape.js + dagre).
// The server sends the flow model the printed pictures use (boxes, columns, labels already
// formatted by the display layer); this file lays it out and lets the analyst expand,
// collapse, hide, pin, group, annotate, save into the campaign and export. Every label is
// set as text, never as HTML; no amount is formatted here.
(function () {
  "use strict";
  const box = document.getElementById("graph");
  if (!box || typeof cytoscape === "undefined") return;
  const $ = id => document.getElementById(id);
  const status = $("status"), details = $("details");
  const campaign = box.dataset.campaign || "", csrf = box.dataset.csrf || "";
  const colours = { exchange: "#0b5fff", service: "#0b5fff", scam: "#d3272f", "investment-scam": "#d3272f",
    ransomware: "#9b0d14", mixer: "#7b3fb3", sanctions: "#000000", gambling: "#c77700" };
  const fills = { start: "#fde2c8", transit: "#eef1f4", "cash-out": "#cdeee9", held: "#d7ecf7",
    limit: "#e4e7ea", coinjoin: "#e6dcf7", dispersed: "#ffffff", return: "#fff4d6" };
  const state = { expand: new Set(), collapse: new Set(), hidden: new Set(), notes: {}, pinned: {},
    groups: {}, page: 1 };
  let cy = null, last = null;

  function text(el, value) { el.textContent = value == null ? "" : String(value); return el; }
  function el(tag, value, cls) { const e = text(document.createElement(tag), value); if (cls) e.className = cls; return e; }
  function row(cells) { const tr = document.createElement("tr"); cells.forEach(c => tr.appendChild(el("td", c))); return tr; }
  function say(msg) { text(status, msg); }

  function label(n) {
    const lines = [n.title, n.subtitle, n.amount_text];
    if (n.fiat_text) lines.push(n.fiat_text);
    if (n.held_text) lines.push(n.held_text);
    if (n.time_text && n.time_text !== "-") lines.push(n.time_text);
    if (state.notes[n.id]) lines.push("✎ " + state.notes[n.id]);
    return lines.filter(Boolean).join("\n");
  }

  function elements(graph) {
    const nodes = graph.nodes.map(n => ({ data: { id: n.id, label: label(n), kind: n.kind,
      category: n.category || "", rank: n.rank, w: 168 + Math.round(70 * Math.sqrt(n.weight || 0)),
      h: 62 + (n.fiat_text ? 12 : 0) + (n.held_text ? 12 : 0) + (state.notes[n.id] ? 12 : 0),
      fill: fills[n.kind] || "#fff", border: colours[n.category] || "#3c4650", raw: n } }));
    const edges = graph.edges.map(e => ({ data: { id: e.id, source: e.source, target: e.target,
      label: e.amount_text + (e.fiat_text ? "\n" + e.fiat_text : ""), width: 1.2 + 8 * (e.weight || 0),
      dashed: e.dashed ? "dashed" : "solid", raw: e } }));
    return nodes.concat(edges);
  }

  const style = [
    { selector: "node", style: { "shape": "round-rectangle", "width": "data(w)", "height": "data(h)",
      "background-color": "data(fill)", "border-width": 1.5, "border-color": "data(border)",
      "label": "data(label)", "text-wrap": "wrap", "text-max-width": "data(w)", "font-size": 10,
      "text-valign": "center", "text-halign": "center", "color": "#17202a" } },
    { selector: 'node[kind = "dispersed"]', style: { "border-style": "dashed" } },
    { selector: 'node[kind = "cash-out"]', style: { "border-width": 3 } },
    { selector: "node.pinned", style: { "border-color": "#ffb000", "border-width": 3 } },
    { selector: ":parent", style: { "background-color": "#f7f9fb", "background-opacity": 0.6,
      "border-style": "dotted", "text-valign": "top", "label": "data(label)", "font-weight": "bold",
      "padding": 12, "shape": "round-rectangle" } },
    { selector: "edge", style: { "curve-style": "bezier", "width": "data(width)", "line-style": "data(dashed)",
      "line-color": "#7d8894", "target-arrow-color": "#7d8894", "target-arrow-shape": "triangle",
      "label": "data(label)", "text-wrap": "wrap", "font-size": 9, "text-background-color": "#fff",
      "text-background-opacity": 0.85, "text-background-padding": 2 } },
    { selector: ":selected", style: { "border-color": "#0b5fff", "border-width": 3, "line-color": "#0b5fff",
      "target-arrow-color": "#0b5fff" } },
  ];

  function layout() {
    const rank = {}; cy.nodes().forEach(n => { rank[n.id()] = n.data("rank") || 0; });
    cy.layout({ name: "dagre", rankDir: "LR", nodeSep: 26, rankSep: 110, edgeSep: 12, animate: false,
      minLen: e => Math.max(1, (rank[e.target().id()] || 0) - (rank[e.source().id()] || 0)),
      fit: true, padding: 20 }).run();
    if (cy.zoom() < 0.6) {  // a wide trace: readable boxes from the start, pan to the rest
      const start = cy.nodes('[kind = "start"]');
      cy.zoom(0.6); cy.center(start.nonempty() ? start : undefined);
      cy.panBy({ x: -(box.clientWidth / 2) + 120, y: 0 });
    }
    Object.keys(state.pinned).forEach(id => { const n = cy.getElementById(id);
      if (n.nonempty()) { n.position(state.pinned[id]); n.lock(); n.addClass("pinned"); } });
    applyGroups();
  }

  function applyGroups() {
    Object.keys(state.groups).forEach(gid => {
      const g = state.groups[gid];
      const members = g.members.map(id => cy.getElementById(id)).filter(n => n.nonempty());
      if (!members.length) return;
      if (cy.getElementById(gid).empty()) cy.add({ group: "nodes", data: { id: gid, label: g.label, kind: "group" } });
      members.forEach(n => n.move({ parent: gid }));
    });
  }

  function draw(data, saved) {
    last = data;
    if (cy) cy.destroy();
    cy = cytoscape({ container: box, elements: saved ? saved.elements : elements(data.graph), style,
      wheelSensitivity: 0.3, minZoom: 0.05, maxZoom: 3, layout: { name: "preset" } });
    window.cy = cy;  // for the console and the browser tests
    if (!saved) layout(); else { applyGroups(); cy.fit(undefined, 20); }
    state.hidden.forEach(id => cy.getElementById(id).remove());
    cy.on("tap", "node, edge", ev => showDetails(ev.target));
    const s = data.summary || {};
    say(s.endpoints + " endpoints in " + s.clusters + " clusters · " + cy.nodes().length + " boxes drawn · " +
      (s.method || "") + " " + (s.direction || "") + " · started with " + (s.started_text || ""));
    notes(data.graph.notes || []);
    tables(data);
  }

  function notes(list) { const p = $("graph-notes"); if (p) text(p, list.join(" · ")); }

  function showDetails(t) {
    details.replaceChildren(el("h2", "Details"));
    const raw = t.data("raw") || {};
    const keys = t.isNode() ? ["title", "subtitle", "kind", "category", "amount_text", "fiat_text", "held_text",
      "time_text", "count"] : ["amount_text", "fiat_text", "txs", "time_text", "via"];
    const table = document.createElement("table"); table.className = "kv";
    keys.forEach(k => { if (raw[k] != null && raw[k] !== "") table.appendChild(row([k.replace("_text", ""), raw[k]])); });
    if (state.notes[t.id()]) table.appendChild(row(["note", state.notes[t.id()]]));
    details.appendChild(table);
    if (t.isNode() && raw.cluster_id != null) details.appendChild(el("p", "cluster " + raw.cluster_id, "dim"));
  }

  function tables(data) {
    const ex = document.querySelector("#exchanges tbody");
    ex.replaceChildren();
    (data.exchanges || []).forEach(x => ex.appendChild(row([x.exchange, x.amount_text, x.deposit_addresses, x.payments])));
    if (!(data.exchanges || []).length) ex.appendChild(row(["no cash-out reached", "", "", ""]));
    const body = document.querySelector("#endpoints tbody");
    body.replaceChildren();
    (data.endpoints || []).forEach(e => {
      const tr = row([e.kind, e.entity, e.address, e.amount_text + (e.fiat_text ? " (" + e.fiat_text + ")" : ""),
        e.hops, e.txid, e.time_text]);
      tr.children[2].className = "mono wrap"; tr.children[5].className = "mono wrap";
      tr.children[3].className = "num"; tr.children[3].title = e.amount + " base units";
      body.appendChild(tr);
    });
    text($("page-info"), "page " + data.page + " of " + data.pages + " · " + data.endpoints_total + " endpoints");
    $("prev-page").disabled = data.page <= 1;
    $("next-page").disabled = data.page >= data.pages;
  }

  function query() {
    const q = new URLSearchParams();
    if (state.expand.size) q.set("expand", Array.from(state.expand).join(","));
    if (state.collapse.size) q.set("collapse", Array.from(state.collapse).join(","));
    q.set("page", String(state.page));
    return box.dataset.src + "&" + q.toString();
  }

  function load(saved) {
    say("loading…");
    fetch(query(), { credentials: "same-origin" }).then(r => r.json().then(j => ({ ok: r.ok, j })))
      .then(({ ok, j }) => { if (!ok) throw new Error(j.message || "trace failed"); draw(j, saved); })
      .catch(err => say(String(err.message || err)));
  }

  function selected() { return cy ? cy.$("node:selected").filter(n => n.data("kind") !== "group") : []; }
  function each(fn) { const s = selected(); if (!s.length) { say("select a box first (click; shift-click for more)"); return false; } s.forEach(fn); return true; }
  function on(id, fn) { const b = $(id); if (b) b.onclick = fn; }

  on("expand", () => { if (each(n => { state.expand.add(n.id()); state.collapse.delete(n.id()); })) load(); });
  on("collapse", () => { if (each(n => { state.collapse.add(n.id()); state.expand.delete(n.id()); })) load(); });
  on("hide", () => { each(n => { state.hidden.add(n.id()); n.remove(); }); text($("unhide"), "Show hidden (" + state.hidden.size + ")"); });
  on("unhide", () => { state.hidden.clear(); text($("unhide"), "Show hidden"); draw(last); });
  on("pin", () => each(n => { if (n.locked()) { n.unlock(); n.removeClass("pinned"); delete state.pinned[n.id()]; }
    else { state.pinned[n.id()] = Object.assign({}, n.position()); n.lock(); n.addClass("pinned"); } }));
  on("group", () => {
    const s = selected(); if (s.length < 2) { say("select two or more boxes to group"); return; }
    const name = window.prompt("Name of the group (e.g. the gang's wallets)"); if (!name) return;
    const gid = "group-" + (Object.keys(state.groups).length + 1);
    state.groups[gid] = { label: name, members: s.map(n => n.id()) }; applyGroups();
  });
  on("note", () => {
    const s = selected(); if (s.length !== 1) { say("select one box to annotate"); return; }
    const n = s[0], note = window.prompt("Note on this box", state.notes[n.id()] || "");
    if (note === null) return;
    if (note) state.notes[n.id()] = note.slice(0, 300); else delete state.notes[n.id()];
    n.data("label", label(n.data("raw"))); n.data("h", n.data("h") + (note ? 12 : 0)); showDetails(n);
  });
  on("fit", () => cy && cy.fit(undefined, 20));
  on("relayout", () => cy && layout());
  on("prev-page", () => { state.page = Math.max(1, state.page - 1); load(); });
  on("next-page", () => { state.page += 1; load(); });

  function snapshot() {
    return { version: 1, query: box.dataset.src, state: { expand: Array.from(state.expand),
      collapse: Array.from(state.collapse), hidden: Array.from(state.hidden), notes: state.notes,
      pinned: state.pinned, groups: state.groups },
      nodes: cy.nodes().map(n => ({ data: n.data(), position: Object.assign({}, n.position()) })),
      edges: cy.edges().map(e => ({ data: e.data() })) };
  }

  function download(name, href) { const a = document.createElement("a"); a.href = href; a.download = name;
    document.body.appendChild(a); a.click(); a.remove(); }
  on("png", () => cy && download("fundtrail-trace.png", cy.png({ full: true, scale: 2, bg: "#ffffff" })));
  on("json", () => cy && download("fundtrail-canvas.json",
    URL.createObjectURL(new Blob([JSON.stringify(snapshot(), null, 1)], { type: "application/json" }))));
  on("svg", () => cy && download("fundtrail-trace.svg",
    URL.createObjectURL(new Blob([toSvg()], { type: "image/svg+xml" }))));

  function esc(s) { return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;"); }
  function toSvg() {
    // the canvas as drawn (positions, hidden boxes, notes), as a standalone SVG file
    const bb = cy.elements().boundingBox(), pad = 20, w = bb.w + 2 * pad, h = bb.h + 2 * pad;
    const X = x => (x - bb.x1 + pad).toFixed(1), Y = y => (y - bb.y1 + pad).toFixed(1);
    const out = ['<svg xmlns="http://www.w3.org/2000/svg" width="' + w.toFixed(0) + '" height="' + h.toFixed(0) +
      '" font-family="DejaVu Sans, sans-serif"><defs><marker id="a" viewBox="0 0 10 10" refX="10" refY="5" ' +
      'markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0L10,5L0,10z" fill="#7d8894"/></marker></defs>',
      '<rect width="100%" height="100%" fill="#fff"/>'];
    cy.edges().forEach(e => {
      const s = e.sourceEndpoint(), t = e.targetEndpoint(), m = e.midpoint();
      out.push('<line x1="' + X(s.x) + '" y1="' + Y(s.y) + '" x2="' + X(t.x) + '" y2="' + Y(t.y) +
        '" stroke="#7d8894" stroke-width="' + e.data("width").toFixed(1) + '" marker-end="url(#a)"' +
        (e.data("dashed") === "dashed" ? ' stroke-dasharray="6 4"' : "") + "/>");
      String(e.data("label")).split("\n").forEach((line, i) => out.push('<text x="' + X(m.x) + '" y="' +
        Y(m.y - 4 + 11 * i) + '" font-size="9" text-anchor="middle" fill="#222">' + esc(line) + "</text>"));
    });
    cy.nodes().forEach(n => {
      if (n.isParent()) return;
      const b = n.boundingBox({ includeLabels: false }), lines = String(n.data("label")).split("\n");
      out.push('<rect x="' + X(b.x1) + '" y="' + Y(b.y1) + '" width="' + b.w.toFixed(1) + '" height="' +
        b.h.toFixed(1) + '" rx="6" fill="' + n.data("fill") + '" stroke="' + n.data("border") + '"/>');
      const top = n.position().y - (lines.length - 1) * 6;
      lines.forEach((line, i) => out.push('<text x="' + X(n.position().x) + '" y="' + Y(top + 12 * i + 3) +
        '" font-size="10" text-anchor="middle"' + (i === 0 ? ' font-weight="bold"' : "") + ">" + esc(line) + "</text>"));
    });
    out.push("</svg>");
    return out.join("");
  }

  on("save", () => {
    if (!campaign) { say("open the trace from a campaign to save the graph into it"); return; }
    const name = window.prompt("Name of this graph (saved into campaign " + campaign + ")"); if (!name) return;
    fetch("/ui/campaigns/" + encodeURIComponent(campaign) + "/graphs", { method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ name, graph: snapshot() }) })
      .then(r => r.json().then(j => ({ ok: r.ok, j })))
      .then(({ ok, j }) => { if (!ok) throw new Error(j.message || "save failed"); say("saved “" + j.name + "” into " + j.campaign); listSaved(); })
      .catch(err => say(String(err.message || err)));
  });

  function listSaved() {
    const sel = $("saved"); if (!sel || !campaign) return;
    fetch("/ui/campaigns/" + encodeURIComponent(campaign) + "/graphs", { credentials: "same-origin" })
      .then(r => r.ok ? r.json() : []).then(list => {
        sel.replaceChildren(el("option", list.length ? "Open a saved graph…" : "No saved graph yet"));
        list.forEach(g => { const o = el("option", g.name + " · " + g.created); o.value = g.id; sel.appendChild(o); });
      });
  }
  const sel = $("saved");
  if (sel) sel.onchange = () => { if (sel.value && sel.selectedIndex > 0) reopen(sel.value); };

  function reopen(id) {
    fetch("/ui/campaigns/" + encodeURIComponent(campaign) + "/graphs/" + encodeURIComponent(id), { credentials: "same-origin" })
      .then(r => r.json().then(j => ({ ok: r.ok, j })))
      .then(({ ok, j }) => {
        if (!ok) throw new Error(j.message || "cannot open the graph");
        const g = j.graph, st = g.state || {};
        state.expand = new Set(st.expand || []); state.collapse = new Set(st.collapse || []);
        state.hidden = new Set(st.hidden || []); state.notes = st.notes || {}; state.pinned = st.pinned || {};
        state.groups = st.groups || {};
        const elements = (g.nodes || []).filter(n => n.data.kind !== "group").map(n => ({ data: n.data, position: n.position }))
          .concat((g.edges || []).map(e => ({ data: e.data })));
        draw(Object.assign({}, last || { graph: { nodes: [], edges: [] }, summary: {} }), { elements });
        say("opened saved graph “" + j.name + "” (" + j.created + ")");
      }).catch(err => say(String(err.message || err)));
  }

  listSaved();
  if (box.dataset.graph) { fetch(query(), { credentials: "same-origin" }).then(r => r.json()).then(j => { last = j; tables(j); reopen(box.dataset.graph); }); }
  else load();
})();
