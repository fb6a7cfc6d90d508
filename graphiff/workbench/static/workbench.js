/* graphiff workbench: search, canvas, filters, timeline, alerts, details and export, over the
   JSON API of `graphiff serve` (docs/api.md). Vanilla JavaScript, no build step.

   Safety: every value that comes from the data is inserted with textContent / createElement
   (never innerHTML), so a trader named <img src=x onerror=...> stays text. Requests go to the
   page's own origin only. No inline script or style: the server's CSP forbids both. */
(function () {
  "use strict";

  // ------------------------------------------------------------------------------ helpers
  function $(id) { return document.getElementById(id); }
  /* Text from the data as it is shown: direction controls (U+202E RIGHT-TO-LEFT OVERRIDE and
     the like) are written out as [U+202E], so that a name cannot turn the rest of a line
     around ("USD 48,327" read as "723,84 DSU") nor hide what it says. */
  var BIDI = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;
  function shown(text) {
    return String(text).replace(BIDI, function (c) { return "[U+" + c.charCodeAt(0).toString(16).toUpperCase() + "]"; });
  }
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = shown(text); }
    if (cls) { e.className = cls; }
    return e;
  }
  function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } }
  function truncate(s, n) { s = String(s === null || s === undefined ? "" : s); return s.length <= n ? s : s.slice(0, n - 1) + "\u2026"; }
  var SVG_NS = "http://www.w3.org/2000/svg";
  function svgEl(tag, attrs) {
    var e = document.createElementNS(SVG_NS, tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, String(attrs[k])); });
    return e;
  }
  var INT = new Intl.NumberFormat("en");
  var COMPACT = new Intl.NumberFormat("en", { notation: "compact", maximumFractionDigits: 1 });
  function fmtInt(n) { return INT.format(n); }
  function fmtUsd(v) { return "USD " + COMPACT.format(v); }
  function keyOf(id) { var i = String(id).indexOf(":"); return i < 0 ? String(id) : String(id).slice(i + 1); }
  function labelOf(id) { var i = String(id).indexOf(":"); return i < 0 ? "" : String(id).slice(0, i); }
  function isObj(v) { return v !== null && typeof v === "object"; }

  var RECORD_LABELS = { Declaration: true, Payment: true, CashReport: true };
  var AGG_TYPES = { TRADED_WITH: true, PAID: true };
  var PROV_KEYS = { _source: true, _line: true, _load_id: true, _loaded_at: true };
  var PLURAL = { Trader: "traders", Person: "persons", Carrier: "carriers", Declaration: "declarations",
    BankAccount: "bank accounts", Payment: "payments", CashReport: "cash reports", Conveyance: "conveyances",
    Container: "containers", Address: "addresses", Phone: "phones", Email: "emails", Country: "countries",
    Rate: "rates", Alert: "alerts" };
  var SINGULAR = { Trader: "trader", Person: "person", Carrier: "carrier", Declaration: "declaration",
    BankAccount: "bank account", Payment: "payment", CashReport: "cash report", Conveyance: "conveyance",
    Container: "container", Address: "address", Phone: "phone", Email: "email", Country: "country",
    Rate: "rate", Alert: "alert" };
  function countOf(label, n) {
    var word = n === 1 ? (SINGULAR[label] || label) : (PLURAL[label] || label + "s");
    return fmtInt(n) + " " + word;
  }

  // ------------------------------------------------------------------------------ state
  var G = window.graphiff = { ready: false, lastDrawMs: 0, lastLoadMs: 0, draws: 0, busy: 0, cy: null };
  var state = {
    styles: null,
    nodes: new Map(),      // node id -> node as the API gave it
    edges: new Map(),      // cytoscape edge id -> edge as the API gave it
    holders: new Map(),    // node id -> Set of step keys that brought it ("open:ID", "expand:ID", "alert:ID")
    steps: [],             // how the view was built: [{kind, id}], replayed when filters change
    hidden: new Set(),     // node ids hidden by the analyst
    pinned: new Map(),     // node id -> position
    hubs: new Map(),       // node id -> {label: count}
    leftOut: null,         // {total, byLabel} of the last answers
    alertId: null,         // the open alert
    alert: null,           // the open alert as the server gave it (with its triage)
    caseDoc: null,         // the open case as the server gave it
    timeRange: null,       // {from, to} brushed on the timeline
    timeline: null         // the last /api/timeline answer
  };

  /* Who is signed in (GET /api/session, docs/api.md): the CSRF token every change carries, the
     rights of the role, the case open (its purpose goes with every audit entry). */
  var session = { user: null, login_required: false, csrf: null, "case": null, idle_minutes: 0, rights: null,
                  caseWork: true };     // caseWork false: a server without case work (no /api/session)
  function can(right) { return !session.rights || session.rights.indexOf(right) >= 0; }

  // ------------------------------------------------------------------------------ status bar
  var statusTimer = null;
  function setStatus(text, kind) {
    var s = $("status");
    text = text ? shown(text) : "";
    s.textContent = text;
    s.className = kind || "";
    clearTimeout(statusTimer);
    if (kind !== "error" && text) { statusTimer = setTimeout(function () { if (s.textContent === text) { s.textContent = ""; } }, 8000); }
  }
  function showError(err) {
    var msg = err && err.message ? err.message : String(err);
    setStatus("Error: " + msg, "error");
  }

  // ------------------------------------------------------------------------------ the API
  function ApiError(message, status) { this.message = message; this.status = status; }
  ApiError.prototype = Object.create(Error.prototype);

  function query(params) {
    var q = new URLSearchParams();
    Object.keys(params).forEach(function (k) {
      var v = params[k];
      if (v === undefined || v === null || v === "") { return; }
      if (Array.isArray(v)) { v.forEach(function (x) { q.append(k, String(x)); }); }
      else { q.append(k, String(v)); }
    });
    var s = q.toString();
    return s ? "?" + s : "";
  }

  async function errorOf(resp) {
    var msg = "HTTP " + resp.status;
    try {
      var body = await resp.json();
      if (body && typeof body.error === "string") { msg = body.error; }
      else if (body && body.detail !== undefined) {
        msg = typeof body.detail === "string" ? body.detail
          : (Array.isArray(body.detail) ? body.detail.map(function (d) {
              return (d.loc ? d.loc.join(".") + ": " : "") + (d.msg || JSON.stringify(d)); }).join("; ") : JSON.stringify(body.detail));
      }
    } catch (e) { /* not JSON: keep the status */ }
    return new ApiError(msg, resp.status);
  }

  /* Every request of the page. A change (POST, PUT, PATCH, DELETE) carries the session's CSRF
     token; a 401 (not signed in, the session ended) brings the sign-in form back, unless
     `opts.quiet401` (the sign-in itself); a 403 says what the server refused. */
  async function api(path, opts) {
    opts = opts || {};
    var init = { method: opts.method || "GET", credentials: "same-origin", headers: { "Accept": "application/json" } };
    if (opts.body !== undefined) { init.body = JSON.stringify(opts.body); init.headers["Content-Type"] = "application/json"; }
    if (init.method !== "GET" && session.csrf) { init.headers["X-CSRF-Token"] = session.csrf; }
    G.busy += 1;
    try {
      var resp;
      try { resp = await fetch(path, init); }
      catch (e) { throw new ApiError("the server does not answer (" + (e.message || e) + ")", 0); }
      touchIdle();
      if (!resp.ok) {
        var err = await errorOf(resp);
        if (resp.status === 403 && init.method !== "GET" && !opts.retried && /CSRF/.test(err.message)) {
          // the server no longer knows the token (restarted: sessions live in its memory): once
          // more with the token of a fresh session, if there is one without signing in again
          var fresh = null;
          try { fresh = await api("/api/session", { quiet401: true }); } catch (e) { fresh = null; }
          if (fresh && fresh.user && fresh.csrf) {
            setSession(fresh);
            return api(path, Object.assign({}, opts, { retried: true }));
          }
          if (fresh && fresh.login_required && !fresh.user) { signedOut("expired", "the server does not know this session any more"); }
        }
        if (resp.status === 401 && !opts.quiet401) { signedOut("expired", err.message); }
        else if (resp.status === 403 && !opts.quiet401) { err.message = "not allowed: " + err.message; }
        throw err;
      }
      if (opts.raw) { return resp; }
      var body = await resp.json();
      if (isObj(body) && typeof body.error === "string") { throw new ApiError(body.error, resp.status); }
      return body;
    } finally {
      G.busy -= 1;
    }
  }

  // ------------------------------------------------------------------------------ styles
  function styleOf(label) {
    var S = state.styles;
    if (!S) { return { colour: "#999999", shape: "ellipse", size: 22 }; }
    return (S.styles && S.styles[label]) || S.default_style || { colour: "#999999", shape: "ellipse", size: 22 };
  }
  function swatch(label) {
    var st = styleOf(label);
    var svg = svgEl("svg", { "class": "swatch", viewBox: "0 0 20 20", width: 14, height: 14, "aria-hidden": "true", "data-shape": st.shape });
    if (st.swatch) { svg.appendChild(svgEl("path", { d: st.swatch, fill: st.colour, stroke: "#555", "stroke-width": 1 })); }
    else { svg.appendChild(svgEl("circle", { cx: 10, cy: 10, r: 8, fill: st.colour, stroke: "#555" })); }
    return svg;
  }
  function edgeStyleName(type, props) {
    if (type === "FLAGS") { return "flags"; }
    if (type === "SAME_AS") {
      var s = props && props.status;
      return s === "linked" || s === "confirmed" ? "same-as" : (s === "rejected" ? "not-same" : "same-as-open");
    }
    if (type === "TRADED_WITH") { return "traded-with"; }
    if (type === "PAID") { return "paid"; }
    return null;
  }

  /* The relationship styles of /api/styles, with the aggregated links' own when the server
     does not name them (same colours as the link charts). */
  function edgeStyles() {
    var ES = Object.assign({}, (state.styles && state.styles.edge_styles) || {});
    if (!ES["traded-with"]) { ES["traded-with"] = { colour: "#00897b", line: "solid", width: 3.2, caption: "traded with", arrow: true }; }
    if (!ES["paid"]) { ES["paid"] = { colour: "#2e9e44", line: "solid", width: 3.2, caption: "paid", arrow: true }; }
    return ES;
  }

  // ------------------------------------------------------------------------------ canvas
  var cy = null;
  function cyStyle() {
    var S = state.styles || {};
    var st = [
      { selector: "node", style: {
        "background-color": "data(colour)", "shape": "data(shape)", "width": "data(size)", "height": "data(size)",
        "label": "data(name)", "font-size": 9, "min-zoomed-font-size": 6, "text-valign": "bottom", "text-margin-y": 2,
        "text-wrap": "wrap", "text-max-width": 160,
        "color": "#333", "text-outline-color": "#fff", "text-outline-width": 1.5, "border-width": 1, "border-color": "#555" } },
      { selector: "node.flagged", style: { "border-width": 4, "border-color": "#d62728" } },
      { selector: "node.seed", style: { "border-style": "double", "border-width": 6 } },
      { selector: "node.alert", style: { "border-width": 3, "border-color": "#7a0000", "color": "#a00000", "font-weight": "bold" } },
      { selector: "node.hub", style: { "border-style": "dashed", "border-width": 4, "border-color": "#e6550d", "color": "#a5520f", "font-weight": "bold" } },
      { selector: "node.in-alert", style: { "underlay-color": "#f5c400", "underlay-opacity": 0.45, "underlay-padding": 7 } },
      { selector: "node.pinned", style: { "outline-width": 2, "outline-color": "#1a5fb4", "outline-offset": 3, "outline-style": "dotted" } },
      { selector: "edge", style: {
        "width": 1.2, "line-color": "#b5b5b5", "curve-style": "bezier", "target-arrow-shape": "triangle",
        "target-arrow-color": "#b5b5b5", "arrow-scale": 0.8, "label": "", "font-size": 8, "min-zoomed-font-size": 7,
        "text-rotation": "autorotate", "color": "#555", "text-background-color": "#fff", "text-background-opacity": 0.85,
        "text-background-padding": 1 } }
    ];
    var ES = edgeStyles();
    Object.keys(ES).forEach(function (name) {
      var e = ES[name], look = { "line-color": e.colour, "target-arrow-color": e.colour, "line-style": e.line, "width": e.width };
      if (!e.arrow) { look["target-arrow-shape"] = "none"; }
      if (e.caption) { look["label"] = "data(caption)"; look["color"] = e.colour; }
      st.push({ selector: "edge.x-" + name.replace(/[^A-Za-z0-9_-]/g, "_"), style: look });
    });
    st.push({ selector: "edge.agg", style: {
      "width": "data(width)", "label": "data(caption)", "font-size": 10, "color": "#123", "arrow-scale": 1.1,
      "control-point-step-size": 50 } });
    st.push({ selector: "edge:selected", style: { "line-color": "#1a5fb4", "target-arrow-color": "#1a5fb4", "width": 3, "label": "data(caption)" } });
    st.push({ selector: "edge.plain:selected", style: { "label": "data(type)" } });
    st.push({ selector: "node:selected", style: { "overlay-color": "#1a5fb4", "overlay-opacity": 0.25, "overlay-padding": 6 } });
    st.push({ selector: ".hidden, .tl-out", style: { "display": "none" } });
    return st;
  }

  function initCanvas() {
    cy = cytoscape({
      container: $("cy"),
      elements: [],
      style: cyStyle(),
      minZoom: 0.05, maxZoom: 5,
      boxSelectionEnabled: true,
      motionBlur: false,
      textureOnViewport: false
    });
    G.cy = cy;
    $("cy").addEventListener("contextmenu", function (ev) { ev.preventDefault(); });
    cy.on("tap", "node", function (evt) { showEntity(evt.target.id()); });
    cy.on("tap", "edge", function (evt) { showEdge(evt.target.id()); });
    cy.on("dbltap", "node", function (evt) { expand([evt.target.id()]); });
    cy.on("cxttap", "node", function (evt) {
      var node = evt.target;
      if (!node.selected()) { cy.elements().unselect(); node.select(); }
      var oe = evt.originalEvent || {};
      openMenu(oe.clientX || 0, oe.clientY || 0);
    });
    cy.on("tap", function (evt) { if (evt.target === cy) { closeMenu(); } });
    cy.on("free", "node", function (evt) {
      var n = evt.target;
      if (state.pinned.has(n.id())) { state.pinned.set(n.id(), Object.assign({}, n.position())); }
    });
  }

  function nodeName(n) {
    var name = truncate(n.caption === undefined || n.caption === null || n.caption === "" ? keyOf(n.id) : n.caption, 32);
    var hub = state.hubs.get(n.id);
    if (hub) {
      var total = 0;
      Object.keys(hub).forEach(function (k) { total += Number(hub[k]) || 0; });
      name += "\n\u229b hub: " + fmtInt(total) + " links";
    }
    return name;
  }

  function nodeElement(n) {
    var st = styleOf(n.label);
    return {
      group: "nodes",
      data: { id: n.id, label: n.label, name: shown(nodeName(n)), colour: st.colour, shape: st.shape, size: st.size || 24 },
      classes: nodeClasses(n)
    };
  }
  function nodeClasses(n) {
    var c = [];
    if (n.label === "Alert") { c.push("alert"); }
    if (n.flagged_by && n.flagged_by.length) { c.push("flagged"); }
    if (n.seed) { c.push("seed"); }
    if (state.hubs.has(n.id)) { c.push("hub"); }
    if (state.hidden.has(n.id)) { c.push("hidden"); }
    if (state.pinned.has(n.id)) { c.push("pinned"); }
    if (state.alertId && n.flagged_by && n.flagged_by.indexOf(state.alertId) >= 0) { c.push("in-alert"); }
    return c.join(" ");
  }

  function edgeCaption(e) {
    var p = e.properties || {};
    if (!AGG_TYPES[e.type]) { return e.type; }
    var s = "";
    if (p.count !== undefined && p.count !== null) { s += fmtInt(p.count) + " \u00d7 "; }
    if (p.value_usd !== undefined && p.value_usd !== null) { s += fmtUsd(Number(p.value_usd)); }
    else { s += e.type; }
    var f = p.first_date ? String(p.first_date) : "", l = p.last_date ? String(p.last_date) : "";
    if (f || l) {
      if (!l || f === l) { s += ", " + (f || l); }
      else if (f.slice(0, 7) === l.slice(0, 7)) { s += ", " + f + ".." + l; }
      else { s += ", " + f.slice(0, 7) + ".." + l.slice(0, 7); }
    }
    return s;
  }
  function edgeElement(e, cid) {
    var p = e.properties || {};
    var name = edgeStyleName(e.type, p);
    var classes = [];
    var data = { id: cid, source: e.source, target: e.target, type: e.type, caption: shown(edgeCaption(e)) };
    if (AGG_TYPES[e.type]) {
      classes.push("agg", "x-" + name);
      data.width = Math.min(7, 1.6 + Math.log2(1 + (Number(p.count) || 1)));
    } else if (name) {
      classes.push("x-" + name);
      data.caption = (state.styles && state.styles.edge_styles && state.styles.edge_styles[name] &&
                      state.styles.edge_styles[name].caption) || e.type;
    } else {
      classes.push("plain");
    }
    return { group: "edges", data: data, classes: classes.join(" ") };
  }
  function edgeCyId(e) { return "e|" + e.id; }

  /* Merges one API answer into the canvas; returns the ids of the nodes added. `key` names the
     step that brought the nodes (for collapse), `anchor` the node expanded (new nodes go round it). */
  function merge(ans, key, anchor) {
    var addNodes = [], addEdges = [], added = [];
    (ans.hubs || []).forEach(function (h) { if (h && h.id) { state.hubs.set(h.id, h.counts || {}); } });
    var answerHubs = new Set((ans.hubs || []).map(function (h) { return h.id; }));
    (ans.seeds || []).forEach(function (s) { if (!answerHubs.has(s) && state.hubs.has(s)) { state.hubs.delete(s); } });
    (ans.nodes || []).forEach(function (n) {
      if (!n || !n.id) { return; }
      var old = state.nodes.get(n.id);
      if (old && old.seed && !n.seed) { n.seed = true; }
      state.nodes.set(n.id, n);
      var h = state.holders.get(n.id);
      if (!h) { h = new Set(); state.holders.set(n.id, h); }
      h.add(key);
      if (cy.getElementById(n.id).empty()) { addNodes.push(nodeElement(n)); added.push(n.id); }
    });
    var present = function (id) { return state.nodes.has(id) && state.holders.has(id); };
    (ans.edges || []).forEach(function (e) {
      if (!e || !e.id) { return; }
      var cid = edgeCyId(e);
      if (state.edges.has(cid) || !present(e.source) || !present(e.target)) { return; }
      state.edges.set(cid, e);
      addEdges.push(edgeElement(e, cid));
    });
    var wasEmpty = cy.nodes().length === 0;
    cy.batch(function () {
      if (addNodes.length) {
        var centre = anchor && cy.getElementById(anchor).nonempty() ? cy.getElementById(anchor).position() : null;
        if (!wasEmpty && centre) { placeAround(addNodes, centre); }
        else if (!wasEmpty) { placeAround(addNodes, freeSpot()); }
        cy.add(addNodes);
      }
      if (addEdges.length) { cy.add(addEdges); }
      // classes of nodes already there may change (seed, hub, flagged)
      (ans.nodes || []).forEach(function (n) { refreshNode(n.id); });
      state.hubs.forEach(function (_c, id) { refreshNode(id); });
    });
    return { added: added, fresh: wasEmpty };
  }

  function refreshNode(id) {
    var n = state.nodes.get(id), node = cy.getElementById(id);
    if (!n || node.empty()) { return; }
    node.data("name", shown(nodeName(n)));
    node.classes(nodeClasses(n));
    if (state.pinned.has(id)) { node.lock(); }
  }

  function placeAround(elements, centre) {
    // rings round the anchor: 10 on the first ring, then more on each wider ring
    var i = 0, ring = 0;
    while (i < elements.length) {
      ring += 1;
      var radius = 90 * ring, per = Math.max(8, Math.floor(2 * Math.PI * radius / 55));
      var k = Math.min(per, elements.length - i);
      for (var j = 0; j < k; j += 1, i += 1) {
        var a = 2 * Math.PI * j / k + ring * 0.37;
        elements[i].position = { x: centre.x + radius * Math.cos(a), y: centre.y + radius * Math.sin(a) };
      }
    }
  }
  function freeSpot() {
    var bb = cy.nodes().boundingBox();
    return { x: bb.x2 + 200, y: (bb.y1 + bb.y2) / 2 };
  }

  function layoutOptions(name, eles) {
    var n = eles.nodes().length;
    var base = { name: name, animate: false, fit: true, padding: 40 };
    if (name === "cose") {
      var big = n > 150;
      if (big) { ringsBySeedDistance(eles); }
      return Object.assign(base, {
        // a big view starts from rings round the seeds and is only refined: a 300-node view
        // draws well within 1.5 s; a small one is laid out from scratch
        randomize: !big, nodeDimensionsIncludeLabels: false, componentSpacing: 60,
        idealEdgeLength: function () { return 90; }, nodeOverlap: 8,
        nodeRepulsion: function () { return 60000; }, edgeElasticity: function () { return 80; },
        // the layout cools from 800 to 1 degree: about 130 rounds at 0.95, 65 at 0.9 (each round
        // costs O(n^2)), so big views cool faster to draw a 300-node view well within 1.5 s
        gravity: 0.6, numIter: big ? 12 : 1000, initialTemp: big ? 150 : 800, coolingFactor: big ? 0.85 : (n > 80 ? 0.92 : 0.95),
        minTemp: 1.0
      });
    }
    if (name === "concentric") {
      return Object.assign(base, { minNodeSpacing: 18, concentric: function (node) { return node.degree(); },
                                   levelWidth: function () { return 2; } });
    }
    if (name === "breadthfirst") {
      var roots = eles.nodes(".seed");
      return Object.assign(base, { directed: false, spacingFactor: 1.1, roots: roots.length ? roots : undefined });
    }
    return base;
  }

  /* Places the nodes on rings by their distance from the seeds (breadth first): O(n + edges). */
  function ringsBySeedDistance(eles) {
    var nodes = eles.nodes();
    var inView = new Set(nodes.map(function (x) { return x.id(); }));
    var dist = new Map(), queue = [];
    var roots = nodes.filter(".seed");
    if (roots.empty()) { roots = nodes.max(function (x) { return x.degree(); }).ele; roots = cy.collection(roots); }
    roots.forEach(function (r) { dist.set(r.id(), 0); queue.push(r); });
    for (var qi = 0; qi < queue.length; qi += 1) {
      var cur = queue[qi], d = dist.get(cur.id());
      cur.neighborhood("node").forEach(function (m) {
        if (!dist.has(m.id()) && inView.has(m.id())) { dist.set(m.id(), d + 1); queue.push(m); }
      });
    }
    var rings = [];
    nodes.forEach(function (x) { var d = dist.has(x.id()) ? dist.get(x.id()) : -1; (rings[d + 1] = rings[d + 1] || []).push(x); });
    var r0 = 0, placed = 0;
    // rings[0]: unreached nodes (put outermost), rings[1]: seeds, rings[k+1]: distance k
    var order = rings.slice(1).concat([rings[0] || []]);
    order.forEach(function (ring) {
      if (!ring || !ring.length) { return; }
      var radius = placed === 0 && ring.length === 1 ? 0 : Math.max(r0 + 110, ring.length * 45 / (2 * Math.PI));
      ring.forEach(function (x, j) {
        var a = 2 * Math.PI * j / ring.length;
        x.position({ x: radius * Math.cos(a), y: radius * Math.sin(a) });
      });
      r0 = radius; placed += ring.length;
    });
  }

  function runLayout(name) {
    name = name || $("layout").value;
    var eles = cy.elements().not(".hidden");
    if (eles.nodes().length === 0) { return; }
    cy.nodes().unlock();
    var t0 = performance.now();
    var opts = layoutOptions(name, eles);
    var t1 = performance.now();
    eles.layout(opts).run();
    G.lastLayout = { name: name, prepare: t1 - t0, run: performance.now() - t1 };
    if (cy.zoom() > 1.5) { cy.zoom(1.5); cy.center(eles); }    // a few nodes: not blown up
    // pinned nodes keep where the analyst put them
    state.pinned.forEach(function (pos, id) {
      var node = cy.getElementById(id);
      if (node.nonempty()) { node.position(pos); node.lock(); }
    });
  }

  function afterDraw(t0, tData) {
    return new Promise(function (resolve) {
      requestAnimationFrame(function () {
        requestAnimationFrame(function () {
          var now = performance.now();
          G.lastDrawMs = Math.round((now - tData) * 10) / 10;
          G.lastLoadMs = Math.round((now - t0) * 10) / 10;
          G.draws += 1;
          G.ready = true;
          resolve();
        });
      });
    });
  }

  function updateCounts() {
    var vis = cy.nodes().filter(function (n) { return !n.hasClass("hidden") && !n.hasClass("tl-out"); }).length;
    var edges = cy.edges().filter(function (e) { return e.visible(); }).length;
    var hidden = state.hidden.size;
    var s = fmtInt(vis) + " nodes \u00b7 " + fmtInt(edges) + " links";
    if (hidden) { s += " \u00b7 " + fmtInt(hidden) + " hidden"; }
    var tl = cy.elements(".tl-out").length;
    if (tl) { s += " \u00b7 " + fmtInt(tl) + " outside the time range"; }
    $("counts").textContent = s;
    $("empty-note").hidden = cy.nodes().length > 0;
  }

  /* Notes over the canvas: one per hub while there are few; beyond HUB_NOTES_SHOWN they fold
     into one line that opens to the list, so that they never cover the canvas (the box scrolls
     beyond a third of its height, see workbench.css). */
  var HUB_NOTES_SHOWN = 2;
  function renderNotes() {
    var box = $("view-notes");
    clear(box);
    var hubNotes = [];
    state.hubs.forEach(function (counts, id) {
      if (cy.getElementById(id).empty()) { return; }
      var n = state.nodes.get(id);
      var name = n && n.caption ? n.caption : keyOf(id);
      var parts = Object.keys(counts).sort(function (a, b) { return counts[b] - counts[a]; })
        .map(function (lab) { return countOf(lab, Number(counts[lab]) || 0); });
      var note = el("div", truncate(name, 60) + ": " + parts.join(", ") +
                    " \u2014 not expanded; narrow the dates or types to expand", "note hub");
      note.setAttribute("data-testid", "hub-note");
      note.setAttribute("data-node", id);
      hubNotes.push(note);
    });
    if (hubNotes.length > HUB_NOTES_SHOWN) {
      var group = el("details", null, "note hub group");
      group.setAttribute("data-testid", "hub-notes");
      var summary = el("summary", fmtInt(hubNotes.length) + " hubs not expanded (more than " +
                       fmtInt(Number($("filter-hub-limit").value) || 0) + " links each; dashed orange border)" +
                       " \u2014 click for what they hold");
      group.appendChild(summary);
      hubNotes.forEach(function (note) { group.appendChild(note); });
      box.appendChild(group);
    } else {
      hubNotes.forEach(function (note) { box.appendChild(note); });
    }
    var lo = state.leftOut;
    if (lo && lo.total > 0) {
      var by = lo.byLabel ? Object.keys(lo.byLabel).map(function (k) { return countOf(k, lo.byLabel[k]); }).join(", ") : "";
      var t = fmtInt(lo.total) + " node" + (lo.total === 1 ? "" : "s") + " left out by the node limit" +
              (by ? " (" + by + ")" : "") + " \u2014 raise the limit or narrow the filters";
      var n2 = el("div", t, "note");
      n2.setAttribute("data-testid", "left-out-note");
      box.appendChild(n2);
    }
  }

  function noteLeftOut(answers) {
    var total = 0, by = {};
    answers.forEach(function (a) {
      total += Number(a.left_out) || 0;
      var b = a.left_out_by_label || {};
      Object.keys(b).forEach(function (k) { by[k] = (by[k] || 0) + (Number(b[k]) || 0); });
    });
    state.leftOut = { total: total, byLabel: by };
  }

  // ------------------------------------------------------------------------------ filters
  function checkedValues(box) {
    var all = box.querySelectorAll("input[type=checkbox]");
    var on = [];
    all.forEach(function (c) { if (c.checked) { on.push(c.value); } });
    return on.length === all.length ? null : on;
  }
  function filters() {
    var f = {
      hops: $("filter-hops").value || 1,
      limit: $("filter-limit").value || 300,
      hub_limit: $("filter-hub-limit").value,
      from: $("filter-from").value,
      to: $("filter-to").value,
      aggregate: $("filter-aggregate").checked ? "true" : "false"
    };
    var types = checkedValues($("filter-types")), rels = checkedValues($("filter-rels"));
    if (types) { f.types = types.join(","); }
    if (rels) { f.rel = rels.join(","); }
    return f;
  }
  function buildChecklist(box, values, withSwatch) {
    clear(box);
    values.forEach(function (v) {
      var lab = el("label");
      var c = el("input");
      c.type = "checkbox"; c.checked = true; c.value = v;
      c.setAttribute("data-value", v);
      lab.appendChild(c);
      if (withSwatch) { lab.appendChild(swatch(v)); }
      lab.appendChild(el("span", v));
      box.appendChild(lab);
    });
  }

  function buildLegend() {
    var S = state.styles || {};
    var legend = $("legend");
    clear(legend);
    (S.labels || Object.keys(S.styles || {})).forEach(function (label) {
      var row = el("div", null, "legend-row");
      row.appendChild(swatch(label));
      row.appendChild(el("span", label));
      legend.appendChild(row);
    });
    var el2 = $("edge-legend");
    clear(el2);
    var items = [];
    var ES = edgeStyles();
    var words = { "traded-with": "TRADED_WITH: declarations folded (count \u00d7 value, dates)",
                  "paid": "PAID: payments folded (count \u00d7 value, dates)", "flags": "flagged by an alert" };
    Object.keys(ES).forEach(function (k) { items.push([k, ES[k].colour, words[k] || ES[k].legend || ES[k].caption || k]); });
    items.forEach(function (it) {
      var d = el("div");
      var sw = svgEl("svg", { "class": "edge-swatch", viewBox: "0 0 24 8", width: 24, height: 8, "aria-hidden": "true" });
      sw.appendChild(svgEl("line", { x1: 0, y1: 4, x2: 24, y2: 4, stroke: it[1], "stroke-width": 3 }));
      d.appendChild(sw);
      d.appendChild(el("span", it[2]));
      el2.appendChild(d);
    });
    var notes = el("div", "Double border: opened; red border: flagged by an alert; dashed orange: a hub, not expanded; yellow halo: in the open alert.", "muted");
    el2.appendChild(notes);
  }

  // ------------------------------------------------------------------------------ building views
  function stepKey(step) { return step.kind + ":" + step.id; }

  async function fetchStep(step) {
    if (step.kind === "case") {
      var c = await api("/api/cases/" + encodeURIComponent(step.id) + "/subgraph" + query({ aggregate: filters().aggregate }));
      return (c && c.subgraph) || {};
    }
    if (step.kind === "alert") {
      var f = filters();
      return (await api("/api/alerts/" + encodeURIComponent(step.id) + query({ aggregate: f.aggregate }))).subgraph || {};
    }
    var p = filters();
    p.id = step.id;
    if (step.kind === "open" && Number(p.hops) < 1) { p.hops = 1; }
    return api("/api/neighbourhood" + query(p));
  }

  function resetCanvas() {
    cy.elements().remove();
    state.nodes.clear(); state.edges.clear(); state.holders.clear(); state.hubs.clear();
    state.leftOut = null;
  }

  /* Adds steps to the view: asks the server, merges the answers, lays out, draws. */
  async function addSteps(steps, opts) {
    opts = opts || {};
    var t0 = performance.now();
    setStatus(opts.busyText || "Asking the server\u2026", "busy");
    var answers;
    try {
      answers = await Promise.all(steps.map(fetchStep));
    } catch (err) {
      showError(err);
      return false;
    }
    var tData = performance.now();
    if (opts.replace) { resetCanvas(); }
    var added = [], fresh = false;
    answers.forEach(function (ans, i) {
      var step = steps[i];
      if (!state.steps.some(function (s) { return stepKey(s) === stepKey(step); })) { state.steps.push(step); }
      var r = merge(ans, stepKey(step), step.kind === "expand" ? step.id : null);
      added = added.concat(r.added);
      fresh = fresh || r.fresh;
    });
    noteLeftOut(answers);
    var tMerged = performance.now();
    if (fresh || opts.relayout) {
      runLayout();
      var cs = state.caseDoc;
      if (cs && steps.some(function (st) { return st.kind === "case" && st.id === cs.id; })) { placeSaved(cs.layout); }
    }
    else if (added.length) {
      var ext = cy.extent(), outside = added.some(function (id) {
        var p = cy.getElementById(id).position();
        return p.x < ext.x1 || p.x > ext.x2 || p.y < ext.y1 || p.y > ext.y2;
      });
      if (outside) { cy.fit(cy.elements(":visible"), 40); }
    }
    var tLayout = performance.now();
    applyTimeFilter();
    renderNotes();
    updateCounts();
    var tLaid = performance.now();
    await afterDraw(t0, tData);
    G.lastTimings = { fetch: tData - t0, merge: tMerged - tData, layout: tLayout - tMerged, rest: tLaid - tLayout, paint: performance.now() - tLaid };
    var nNodes = answers.reduce(function (s, a) { return s + (a.nodes ? a.nodes.length : 0); }, 0);
    if (opts.doneText) { setStatus(opts.doneText(added, nNodes), ""); }
    else { setStatus(added.length + " node" + (added.length === 1 ? "" : "s") + " added", ""); }
    scheduleTimeline();
    return true;
  }

  async function openEntity(id) {
    closeSearch();
    var ok = await addSteps([{ kind: "open", id: id }], {
      busyText: "Opening " + id + "\u2026",
      doneText: function (added) { return "Opened " + id + (added.length ? " (" + added.length + " nodes added)" : ""); }
    });
    if (!ok) { return; }
    var node = cy.getElementById(id);
    if (node.empty()) {
      // the answer may name the entity by another record of its cluster: take the seed
      var seed = cy.nodes(".seed").last();
      if (seed.nonempty()) { node = seed; }
    }
    if (node.nonempty()) {
      cy.elements().unselect();
      node.select();
      cy.center(node);
      showEntity(node.id());
    }
  }

  async function expand(ids) {
    closeMenu();
    ids = ids.filter(function (id) { return cy.getElementById(id).nonempty(); });
    if (!ids.length) { setStatus("Select a node to expand (or double-click one).", "error"); return; }
    var steps = ids.map(function (id) { return { kind: "expand", id: id }; });
    await addSteps(steps, {
      busyText: "Expanding " + ids.join(", ") + "\u2026",
      doneText: function (added) {
        var hubs = ids.filter(function (id) { return state.hubs.has(id); });
        var s = "Expanded " + ids.join(", ") + ": " + added.length + " node" + (added.length === 1 ? "" : "s") + " added";
        if (hubs.length) { s += "; " + hubs.join(", ") + " is a hub, summarised"; }
        return s;
      }
    });
  }

  async function replay(why) {
    if (!state.steps.length) { setStatus("Filters set; they apply to the next search result, alert or expansion.", ""); scheduleTimeline(); return; }
    var steps = state.steps.slice();
    state.steps = [];
    var ok = await addSteps(steps, { replace: true, relayout: true, busyText: why || "Asking again with the filters\u2026",
      doneText: function () { return "View rebuilt with the filters: " + cy.nodes().length + " nodes"; } });
    if (!ok) { state.steps = steps; return; }           // refused: the canvas keeps what it showed
    if (state.alertId) { highlightAlert(); }
  }

  async function openAlert(id) {
    setStatus("Opening alert " + id + "\u2026", "busy");
    var t0 = performance.now();
    var ans;
    try {
      ans = await api("/api/alerts/" + encodeURIComponent(id) + query({ aggregate: $("filter-aggregate").checked ? "true" : "false" }));
    } catch (err) { showError(err); return; }
    var tData = performance.now();
    resetCanvas();
    state.steps = [{ kind: "alert", id: id }];
    state.hidden.clear(); state.pinned.clear();
    clearTimeRange(true);
    state.alertId = id;
    merge(ans.subgraph || {}, "alert:" + id, null);
    noteLeftOut([ans.subgraph || {}]);
    runLayout(cy.nodes().length <= 12 ? "circle" : undefined);
    highlightAlert();
    renderNotes();
    updateCounts();
    renderAlertDetail(ans);
    $("panel").scrollTop = 0;
    markActiveAlert();
    await afterDraw(t0, tData);
    setStatus("Alert " + id + " opened: " + cy.nodes().length + " nodes", "");
    scheduleTimeline();
  }

  function highlightAlert() {
    var id = state.alertId;
    cy.batch(function () {
      cy.nodes().forEach(function (node) {
        var n = state.nodes.get(node.id());
        var on = !!(id && n && n.flagged_by && n.flagged_by.indexOf(id) >= 0);
        if (on) { node.addClass("in-alert"); } else { node.removeClass("in-alert"); }
      });
    });
  }

  // ------------------------------------------------------------------------------ node actions
  function selectedIds() { return cy.nodes(":selected").map(function (n) { return n.id(); }); }
  function needSelection(ids, what) {
    if (!ids.length) { setStatus("Select one or more nodes to " + what + " (click; shift-click for more).", "error"); return false; }
    return true;
  }
  function hide(ids) {
    if (!needSelection(ids, "hide")) { return; }
    cy.batch(function () { ids.forEach(function (id) { state.hidden.add(id); cy.getElementById(id).addClass("hidden").unselect(); }); });
    updateCounts();
    setStatus("Hidden: " + ids.length + " node" + (ids.length === 1 ? "" : "s") + " (Unhide all brings them back)", "");
    scheduleTimeline();
  }
  function unhideAll() {
    cy.batch(function () { state.hidden.forEach(function (id) { cy.getElementById(id).removeClass("hidden"); }); });
    state.hidden.clear();
    updateCounts();
    scheduleTimeline();
  }
  function togglePin(ids) {
    if (!needSelection(ids, "pin")) { return; }
    var pinAll = ids.some(function (id) { return !state.pinned.has(id); });
    ids.forEach(function (id) {
      var node = cy.getElementById(id);
      if (pinAll) { state.pinned.set(id, Object.assign({}, node.position())); node.lock(); node.addClass("pinned"); }
      else { state.pinned.delete(id); node.unlock(); node.removeClass("pinned"); }
    });
    setStatus((pinAll ? "Pinned " : "Unpinned ") + ids.join(", "), "");
  }
  function collapse(ids) {
    if (!needSelection(ids, "collapse")) { return; }
    var keys = new Set();
    ids.forEach(function (id) { if (state.steps.some(function (s) { return s.kind === "expand" && s.id === id; })) { keys.add("expand:" + id); } });
    if (!keys.size) { setStatus(ids.join(", ") + ": not expanded, nothing to collapse", "error"); return; }
    var removed = 0;
    while (keys.size) {
      var next = new Set();
      state.steps = state.steps.filter(function (s) { return !keys.has(stepKey(s)); });
      state.holders.forEach(function (h, nid) {
        var had = false;
        keys.forEach(function (k) { if (h.delete(k)) { had = true; } });
        if (had && h.size === 0 && !state.pinned.has(nid)) {
          var node = cy.getElementById(nid);
          if (node.nonempty()) { node.remove(); removed += 1; }
          state.holders.delete(nid); state.nodes.delete(nid); state.hubs.delete(nid); state.hidden.delete(nid);
          if (state.steps.some(function (s) { return s.kind === "expand" && s.id === nid; })) { next.add("expand:" + nid); }
        }
      });
      keys = next;
    }
    state.edges.forEach(function (_e, cid) { if (cy.getElementById(cid).empty()) { state.edges.delete(cid); } });
    renderNotes();
    updateCounts();
    setStatus("Collapsed " + ids.join(", ") + ": " + removed + " node" + (removed === 1 ? "" : "s") + " removed", "");
    scheduleTimeline();
  }

  // ------------------------------------------------------------------------------ context menu
  function openMenu(x, y) {
    var m = $("ctx-menu");
    m.hidden = false;
    var w = m.offsetWidth || 160, h = m.offsetHeight || 180;
    m.style.left = Math.min(x, window.innerWidth - w - 4) + "px";
    m.style.top = Math.min(y, window.innerHeight - h - 4) + "px";
  }
  function closeMenu() { $("ctx-menu").hidden = true; }
  $("ctx-menu").addEventListener("click", function (ev) {
    var b = ev.target.closest("button");
    if (!b) { return; }
    var ids = selectedIds();
    closeMenu();
    var act = b.getAttribute("data-action");
    if (act === "expand") { expand(ids); }
    else if (act === "hide") { hide(ids); }
    else if (act === "pin") { togglePin(ids); }
    else if (act === "collapse") { collapse(ids); }
    else if (act === "details" && ids.length) { showEntity(ids[0]); }
    else if (act === "alerts" && ids.length) { $("alert-entity").value = ids[0]; loadAlerts(); }
  });
  document.addEventListener("click", function (ev) {
    if (!$("ctx-menu").hidden && !ev.target.closest("#ctx-menu")) { closeMenu(); }
    if (!ev.target.closest("#search-box")) { closeSearch(); }
  });

  // ------------------------------------------------------------------------------ detail panel
  function kvRow(table, key, value, cls) {
    var tr = el("tr", null, cls);
    tr.appendChild(el("td", key));
    var v = value;
    if (isObj(v)) { v = JSON.stringify(v); }
    tr.appendChild(el("td", v === null || v === undefined || v === "" ? "\u2014" : v));
    table.appendChild(tr);
  }
  function linkButton(text, onClick, testid) {
    var b = el("button", text, "linkbtn");
    b.type = "button";
    if (testid) { b.setAttribute("data-testid", testid); }
    b.addEventListener("click", onClick);
    return b;
  }
  function nodeLink(id) {
    var n = state.nodes.get(id);
    var text = (n ? n.label + ": " + truncate(n.caption || keyOf(id), 60) : id);
    return linkButton(text, function () { focusNode(id); });
  }
  function focusNode(id) {
    var node = cy.getElementById(id);
    if (node.nonempty()) {
      cy.elements().unselect(); node.select();
      if (node.visible()) { cy.animate({ center: { eles: node } }, { duration: 200 }); }
    }
    showEntity(id);
  }
  function resetDetail(title, sub) {
    $("detail-title").textContent = shown(title);
    $("detail-sub").textContent = shown(sub || "");
    ["detail-flags", "detail-alerts", "detail-props", "detail-aliases", "detail-prov", "detail-degree"].forEach(function (i) { clear($(i)); });
    ["detail-alerts-head", "detail-props-head", "detail-aliases-head", "detail-prov-head", "detail-degree-head"].forEach(function (i) { $(i).hidden = true; });
  }
  function alertLine(a) {
    var li = el("li");
    var b = linkButton(a.pattern + " \u00b7 " + Number(a.score).toFixed(2), function () { openAlert(a.id); }, "detail-alert");
    b.setAttribute("data-alert", a.id);
    li.appendChild(b);
    if (a.explanation) { li.appendChild(el("div", truncate(a.explanation, 200), "muted small")); }
    return li;
  }

  var entitySeq = 0;
  async function showEntity(id) {
    var seq = ++entitySeq;
    var local = state.nodes.get(id);
    resetDetail(local ? (local.caption || keyOf(id)) : id, local ? local.label + " \u00b7 " + keyOf(id) : "");
    var ans;
    try { ans = await api("/api/entity" + query({ id: id })); }
    catch (err) { if (seq === entitySeq) { showError(err); } return; }
    if (seq !== entitySeq) { return; }
    var n = ans.node || local || { id: id };
    resetDetail(n.caption || keyOf(n.id || id), (n.label || labelOf(id)) + " \u00b7 " + keyOf(n.id || id));
    $("detail").setAttribute("data-node", n.id || id);
    var flags = $("detail-flags");
    var hub = state.hubs.get(id);
    if (hub) {
      flags.appendChild(el("div", "Hub: " + Object.keys(hub).map(function (k) { return countOf(k, hub[k]); }).join(", ") +
                           " \u2014 not expanded; narrow the dates or types to expand", "hub-note"));
    }
    if ((n.label || labelOf(id)) === "Alert") {
      var openIt = linkButton("Open this alert with its evidence", function () { openAlert(keyOf(n.id || id)); }, "open-alert");
      flags.appendChild(el("div")).appendChild(openIt);
    }
    var alerts = ans.alerts || [];
    if (alerts.length) {
      flags.appendChild(el("div", "Flagged by " + alerts.length + " alert" + (alerts.length === 1 ? "" : "s"), "flag-note"));
      $("detail-alerts-head").hidden = false;
      alerts.forEach(function (a) { $("detail-alerts").appendChild(alertLine(a)); });
    }
    var aliases = ans.aliases || [];
    if (aliases.length) {
      flags.appendChild(el("div", (aliases.length + 1) + " records joined by entity resolution", "same-note"));
      $("detail-aliases-head").hidden = false;
      aliases.forEach(function (a) {
        var bits = [a.id];
        if (a.caption) { bits.push(a.caption); }
        var extra = [];
        if (a.status) { extra.push(a.status); }
        if (a.score !== undefined && a.score !== null) { extra.push("score " + Number(a.score).toFixed(2)); }
        $("detail-aliases").appendChild(el("li", bits.join(" \u2014 ") + (extra.length ? " (" + extra.join(", ") + ")" : "")));
      });
    }
    var props = n.properties || {};
    if (typeof props.target_score === "number") {   // graphiff targeting score: the learned risk score and why
      var tgt = el("div", "Targeting score " + props.target_score.toFixed(2), "flag-note");
      tgt.setAttribute("data-testid", "detail-target");
      var why = el("ul", null, "small");
      String(props.target_reasons || "").split(" | ").forEach(function (r) { if (r) { why.appendChild(el("li", r)); } });
      tgt.appendChild(why);
      flags.appendChild(tgt);
    }
    var keys = Object.keys(props).filter(function (k) { return !PROV_KEYS[k]; }).sort();
    if (keys.length) {
      $("detail-props-head").hidden = false;
      keys.forEach(function (k) { kvRow($("detail-props"), k, props[k]); });
    }
    var prov = ans.provenance || [];
    if (prov.length) {
      $("detail-prov-head").hidden = false;
      prov.forEach(function (p, i) {
        if (prov.length > 1) {
          var tr = el("tr", null, "group"), td = el("td", "record " + (i + 1) + " of " + prov.length);
          td.colSpan = 2;
          tr.appendChild(td);
          $("detail-prov").appendChild(tr);
        }
        kvRow($("detail-prov"), "file", p.source);
        kvRow($("detail-prov"), "line", p.line);
        kvRow($("detail-prov"), "load", p.load_id);
        kvRow($("detail-prov"), "loaded at", p.loaded_at);
        if (p.partner) { kvRow($("detail-prov"), "partner package", p.partner); }
      });
    }
    var deg = ans.degree || {};
    var dk = Object.keys(deg);
    if (dk.length) {
      $("detail-degree-head").hidden = false;
      dk.sort().forEach(function (k) { kvRow($("detail-degree"), PLURAL[k] || k, fmtInt(deg[k])); });
    }
  }

  function showEdge(cid) {
    var e = state.edges.get(cid);
    if (!e) { return; }
    entitySeq += 1;
    resetDetail(e.type, AGG_TYPES[e.type] ? edgeCaption(e) : "relationship");
    $("detail").setAttribute("data-node", "");
    var flags = $("detail-flags");
    var a = el("div"); a.appendChild(el("span", "from ", "muted")); a.appendChild(nodeLink(e.source)); flags.appendChild(a);
    var b = el("div"); b.appendChild(el("span", "to ", "muted")); b.appendChild(nodeLink(e.target)); flags.appendChild(b);
    var props = e.properties || {};
    var keys = Object.keys(props).filter(function (k) { return !PROV_KEYS[k]; }).sort();
    if (keys.length) {
      $("detail-props-head").hidden = false;
      keys.forEach(function (k) {
        var v = props[k];
        if (k === "value_usd" && typeof v === "number") { v = "USD " + INT.format(Math.round(v)); }
        if (Array.isArray(v)) { v = v.length > 25 ? v.slice(0, 25).join(", ") + " \u2026 (" + v.length + ")" : v.join(", "); }
        kvRow($("detail-props"), k, v);
      });
    }
    var provKeys = Object.keys(props).filter(function (k) { return PROV_KEYS[k]; });
    if (provKeys.length) {
      $("detail-prov-head").hidden = false;
      provKeys.forEach(function (k) { kvRow($("detail-prov"), k, props[k]); });
    }
  }

  // ------------------------------------------------------------------------------ search
  var searchTimer = null, searchSeq = 0, shownQuery = null, results = [], active = 0;
  function closeSearch() { $("search-results").hidden = true; }
  async function runSearch() {
    var q = $("search").value.trim();
    var seq = ++searchSeq;
    if (q.length < 2) { results = []; shownQuery = q; closeSearch(); return; }
    var ans;
    try { ans = await api("/api/search" + query({ q: q, limit: 20 })); }
    catch (err) { if (seq === searchSeq) { showError(err); } return; }
    if (seq !== searchSeq) { return; }
    results = ans.results || [];
    shownQuery = q;
    active = 0;
    renderResults();
  }
  function renderResults() {
    var list = $("search-results");
    clear(list);
    if (!results.length) {
      list.appendChild(el("li", "No match for \u201c" + shownQuery + "\u201d", "none"));
    }
    results.forEach(function (r, i) {
      var li = el("li", null, i === active ? "active" : "");
      li.setAttribute("role", "option");
      li.setAttribute("data-testid", "search-result");
      li.setAttribute("data-id", r.id);
      var head = el("div", null, "res-head");
      var lab = el("span", r.label, "res-label");
      lab.style.backgroundColor = styleOf(r.label).colour;   // CSSOM, allowed by the CSP
      head.appendChild(lab);
      head.appendChild(el("span", r.caption || keyOf(r.id), "res-caption"));
      head.appendChild(el("span", Number(r.score || 0).toFixed(2), "res-score"));
      li.appendChild(head);
      var m = (r.matched || []).map(function (x) { return isObj(x) ? (x.field + ": " + x.value) : String(x); });
      if (m.length) { li.appendChild(el("div", "matched " + m.join(" \u00b7 "), "res-matched")); }
      li.appendChild(el("div", r.id, "res-id"));
      li.addEventListener("mousedown", function (ev) { ev.preventDefault(); });
      li.addEventListener("click", function () { openEntity(r.id); });
      list.appendChild(li);
    });
    list.hidden = false;
  }
  $("search").addEventListener("input", function () {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(runSearch, 220);
  });
  $("search").addEventListener("focus", function () { if (results.length && shownQuery === $("search").value.trim()) { $("search-results").hidden = false; } });
  $("search").addEventListener("keydown", async function (ev) {
    if (ev.key === "Escape") { closeSearch(); $("search").blur(); return; }
    if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      ev.preventDefault();
      if (!results.length) { return; }
      active = (active + (ev.key === "ArrowDown" ? 1 : results.length - 1)) % results.length;
      renderResults();
      return;
    }
    if (ev.key !== "Enter") { return; }
    ev.preventDefault();
    if (shownQuery !== $("search").value.trim()) { clearTimeout(searchTimer); await runSearch(); }
    if (results.length) { openEntity(results[Math.min(active, results.length - 1)].id); }
  });

  // ------------------------------------------------------------------------------ alerts
  var alertSeq = 0, patternsFilled = false;
  async function loadAlerts() {
    var seq = ++alertSeq;
    var statuses = statusFilter();
    updateStatusSummary();
    if (statuses && !statuses.length) {
      clear($("alert-list"));
      $("alert-list").appendChild(el("li", "Tick at least one status.", "none"));
      $("alert-count").textContent = "0";
      return;
    }
    var p = { pattern: $("alert-pattern").value, status: statuses ? statuses.join(",") : "", sort: $("alert-sort").value,
              entity: $("alert-entity").value.trim(), limit: 200 };
    var ms = parseFloat($("alert-min-score").value);
    if (ms > 0) { p.min_score = ms; }
    var ans;
    try { ans = await api("/api/alerts" + query(p)); }
    catch (err) { if (seq === alertSeq) { showError(err); } return; }
    if (seq !== alertSeq) { return; }
    var list = $("alert-list");
    clear(list);
    var alerts = ans.alerts || [];
    $("alert-count").textContent = alerts.length + (ans.total !== undefined && ans.total !== alerts.length ? " of " + fmtInt(ans.total) : "");
    if (!patternsFilled && ans.patterns) {
      var sel = $("alert-pattern");
      Object.keys(ans.patterns).sort().forEach(function (k) {
        var o = el("option", k + " (" + ans.patterns[k] + ")"); o.value = k; sel.appendChild(o);
      });
      patternsFilled = true;
    }
    if (!alerts.length) { list.appendChild(el("li", "No alert matches these filters.", "none")); }
    alerts.forEach(function (a) {
      var li = el("li");
      li.setAttribute("data-testid", "alert-item");
      li.setAttribute("data-id", a.id);
      li.tabIndex = 0;
      li.setAttribute("data-status", a.status || "new");
      var head = el("div", null, "al-head");
      head.appendChild(el("span", a.pattern, "al-pattern"));
      head.appendChild(el("span", Number(a.score).toFixed(2), "al-score"));
      li.appendChild(head);
      li.appendChild(triageLine(a, false));
      var ents = (a.entities || []).map(function (e) { return e.caption || e.name || ((e.label ? e.label + " " : "") + e.id); });
      if (ents.length) { li.appendChild(el("div", truncate(ents.join(", "), 160), "al-entities")); }
      var dates = [a.first_date, a.last_date].filter(Boolean);
      var meta = [];
      if (dates.length) { meta.push(dates[0] === dates[dates.length - 1] ? dates[0] : dates[0] + " \u2013 " + dates[dates.length - 1]); }
      if (meta.length) { li.appendChild(el("div", meta.join(" \u00b7 "), "al-dates")); }
      if (a.explanation) { li.appendChild(el("div", truncate(a.explanation, 150), "al-expl")); }
      li.addEventListener("click", function () { openAlert(a.id); });
      li.addEventListener("keydown", function (ev) { if (ev.key === "Enter") { openAlert(a.id); } });
      list.appendChild(li);
    });
    markActiveAlert();
  }
  // ------------------------------------------------------------------------------ triage
  var STATUSES = ["new", "in_review", "escalated", "dismissed", "false_positive", "no_longer_detected"];
  var SETTABLE = STATUSES.slice(0, 5);
  /* The list shows the work still to do by default: alerts decided on (dismissed, false
     positive) or no longer detected are a tick away in the status filter. */
  var STATUS_DEFAULT = { "new": true, in_review: true, escalated: true };
  var STATUS_WORDS = { "new": "new", in_review: "in review", escalated: "escalated", dismissed: "dismissed",
    false_positive: "false positive", no_longer_detected: "no longer detected" };
  function statusWord(s) { return STATUS_WORDS[s] || String(s); }
  function statusBadge(status) {
    status = status || "new";
    var b = el("span", statusWord(status), "badge st-" + String(status).replace(/[^a-z_]/g, ""));
    b.setAttribute("data-testid", "status-badge");
    b.setAttribute("data-status", status);
    return b;
  }
  function notesCount(a) {
    if (a.n_notes !== undefined && a.n_notes !== null) { return Number(a.n_notes) || 0; }
    if (Array.isArray(a.notes)) { return a.notes.length; }
    return Number(a.notes) || 0;
  }
  function fmtTime(t) {
    var s = String(t || "");
    var m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(:\d{2}(\.\d+)?)?(Z|\+00:00)?$/.exec(s);
    return m ? m[1] + " " + m[2] + (m[5] ? " UTC" : "") : s;
  }
  /* Status badge, "updated" marker, assignee and notes count of an alert. */
  function triageLine(a, long) {
    var d = el("div", null, "al-triage");
    d.appendChild(statusBadge(a.status));
    if (a.status === "no_longer_detected") {
      var since = a.no_longer_detected_at ? "since " + String(a.no_longer_detected_at).slice(0, 10) : "";
      var dec = a.decision && a.decision !== "new" ? "analyst status: " + statusWord(a.decision) : "";
      var t = [since, dec].filter(Boolean).join("; ");
      if (t) { d.appendChild(el("span", t, "al-since")); }
    }
    if (a.updated) {
      var u = el("span", "updated", "al-updated");
      u.setAttribute("data-testid", "alert-updated");
      u.title = "New evidence since an analyst last acted on it" + (a.updated_at ? " (detected " + fmtTime(a.updated_at) + ")" : "");
      d.appendChild(u);
    }
    if (a.assignee) {
      var who = el("span", (long ? "assigned to " : "\u2192 ") + a.assignee, "al-assignee");
      who.setAttribute("data-testid", "alert-assignee");
      d.appendChild(who);
    }
    var n = notesCount(a);
    if (n) {
      var notes = el("span", "\u270e " + n + (long ? " note" + (n === 1 ? "" : "s") : ""), "al-notes");
      notes.title = n + " note" + (n === 1 ? "" : "s");
      notes.setAttribute("data-testid", "alert-notes-count");
      d.appendChild(notes);
    }
    return d;
  }
  function buildStatusFilter() {
    var box = $("alert-status");
    clear(box);
    STATUSES.forEach(function (st) {
      var lab = el("label");
      var c = el("input");
      c.type = "checkbox"; c.value = st; c.checked = !!STATUS_DEFAULT[st];
      c.setAttribute("data-value", st);
      lab.appendChild(c);
      lab.appendChild(statusBadge(st));
      box.appendChild(lab);
    });
    updateStatusSummary();
  }
  /* The ticked statuses; null when all are ticked (no filter). */
  function statusFilter() { return checkedValues($("alert-status")); }
  function updateStatusSummary() {
    var on = statusFilter();
    $("alert-status-summary").textContent = on === null ? "all" : (on.length ? on.map(statusWord).join(", ") : "none");
  }
  function fillTriageStatus() {
    var sel = $("triage-status");
    clear(sel);
    SETTABLE.forEach(function (st) { var o = el("option", statusWord(st)); o.value = st; sel.appendChild(o); });
  }
  function noteItem(n) {
    var li = el("li");
    li.setAttribute("data-testid", "note");
    li.appendChild(el("div", (n.user || "?") + " \u00b7 " + fmtTime(n.at), "note-head"));
    li.appendChild(el("div", n.text, "note-text"));
    return li;
  }
  function renderNoteList(ul, notes, none) {
    clear(ul);
    (notes || []).forEach(function (n) { ul.appendChild(noteItem(n)); });
    if (!(notes || []).length) { ul.appendChild(el("li", none, "muted")); }
  }
  /* The triage part of the alert panel: status, assignee, notes and history of `a`. */
  function renderTriage(a) {
    if (!state.alert || state.alert.id !== a.id) { $("triage-note").value = ""; }
    state.alert = a;
    var line = $("alert-triage-line");
    clear(line);
    line.appendChild(triageLine(a, true));
    var decision = a.decision || (SETTABLE.indexOf(a.status) >= 0 ? a.status : "new");
    $("triage-status").value = SETTABLE.indexOf(decision) >= 0 ? decision : "new";
    $("triage-assignee").value = a.assignee || "";
    var notes = Array.isArray(a.notes) ? a.notes : [];
    $("alert-n-notes").textContent = notes.length ? "(" + notes.length + ")" : "";
    renderNoteList($("alert-notes"), notes, "No note yet.");
    var hist = $("alert-history");
    clear(hist);
    (a.history || []).forEach(function (h) {
      var li = el("li", fmtTime(h.at) + " \u00b7 " + (h.user || "?") + ": " + statusWord(h.previous || "new") + " \u2192 " + statusWord(h.status), "");
      hist.appendChild(li);
    });
    if (!(a.history || []).length) { hist.appendChild(el("li", "No status change yet.", "muted")); }
    var may = session.caseWork && can("triage");
    ["triage-status", "triage-assignee", "triage-note", "triage-save"].forEach(function (id) { $(id).disabled = !may; });
    $("triage").hidden = !session.caseWork;
    $("btn-alert-to-case").hidden = !can("case");
  }
  async function saveTriage() {
    var a = state.alert;
    if (!a || !a.id) { return; }
    var body = {};
    var st = $("triage-status").value;
    var decision = a.decision || (SETTABLE.indexOf(a.status) >= 0 ? a.status : "new");
    if (st !== decision) { body.status = st; }
    var who = $("triage-assignee").value.trim();
    if (who !== (a.assignee || "")) { body.assignee = who; }
    var note = $("triage-note").value.trim();
    if (note) { body.note = note; }
    if (!Object.keys(body).length) { setStatus("Nothing to save: change the status or the assignee, or write a note.", "error"); return; }
    setStatus("Saving the triage of " + a.id + "\u2026", "busy");
    var ans;
    try { ans = await api("/api/alerts/" + encodeURIComponent(a.id) + "/triage", { method: "POST", body: body }); }
    catch (err) { showError(err); return; }
    var got = isObj(ans) && isObj(ans.alert) ? ans.alert : ans;
    if (!isObj(got) || !Array.isArray(got.notes)) {
      // the answer names no notes: ask for the alert again
      try { got = (await api("/api/alerts/" + encodeURIComponent(a.id) + query({ aggregate: "true" }))).alert; }
      catch (err) { showError(err); return; }
    }
    if (state.alert && state.alert.id === a.id) {
      $("triage-note").value = "";
      renderTriage(Object.assign({}, a, got));
    }
    var said = [];
    if (body.status) { said.push("status " + statusWord(body.status)); }
    if (body.assignee !== undefined) { said.push(body.assignee ? "assigned to " + body.assignee : "unassigned"); }
    if (body.note) { said.push("note added"); }
    setStatus("Alert " + a.id + ": " + said.join(", "), "");
    loadAlerts();
  }
  $("triage-save").addEventListener("click", saveTriage);
  $("triage-note").addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); saveTriage(); }
  });
  $("btn-alert-to-case").addEventListener("click", function () {
    var a = state.alert;
    if (!a) { return; }
    var ents = (a.entities || []).map(function (e) { return e.label ? e.label + ":" + e.id : String(e.id); });
    addToCase(ents, [a.id], "alert " + a.id + " and its " + ents.length + " entit" + (ents.length === 1 ? "y" : "ies"));
  });

  function markActiveAlert() {
    document.querySelectorAll("#alert-list li").forEach(function (li) {
      li.classList.toggle("active", li.getAttribute("data-id") === state.alertId);
    });
  }
  function renderAlertDetail(ans) {
    var a = ans.alert || {};
    $("alert-detail").hidden = false;
    $("alert-detail").setAttribute("data-id", a.id || "");
    $("alert-title").textContent = (a.pattern || "alert") + " \u00b7 score " + Number(a.score || 0).toFixed(2);
    var meta = [a.id];
    if (a.first_date) { meta.push(a.first_date + (a.last_date && a.last_date !== a.first_date ? " \u2013 " + a.last_date : "")); }
    if (a.first_seen) { meta.push("first detected " + String(a.first_seen).slice(0, 10)); }
    $("alert-meta").textContent = shown(meta.filter(Boolean).join(" \u00b7 "));
    renderTriage(a);
    $("alert-explanation").textContent = shown(a.explanation || "");
    var ul = $("alert-evidence");
    clear(ul);
    // the explanation is shown above: the evidence lists the rest
    var lines = (ans.evidence_text || []).filter(function (line) { return line !== a.explanation; });
    lines.forEach(function (line) { ul.appendChild(el("li", line)); });
    if (!lines.length) { ul.appendChild(el("li", "No evidence recorded.", "muted")); }
  }
  $("alert-close").addEventListener("click", function () {
    $("alert-detail").hidden = true;
    state.alertId = null;
    state.alert = null;
    highlightAlert();
    markActiveAlert();
  });
  var alertTimer = null;
  function alertsSoon() { clearTimeout(alertTimer); alertTimer = setTimeout(loadAlerts, 250); }
  ["alert-pattern", "alert-sort", "alert-status"].forEach(function (id) { $(id).addEventListener("change", loadAlerts); });
  ["alert-min-score", "alert-entity"].forEach(function (id) { $(id).addEventListener("input", alertsSoon); });

  // ------------------------------------------------------------------------------ timeline
  var tlTimer = null, tlSeq = 0;
  function recordIdsInView() {
    var ids = new Set();
    cy.nodes().forEach(function (node) {
      if (node.hasClass("hidden")) { return; }
      if (RECORD_LABELS[node.data("label")]) { ids.add(node.id()); }
    });
    cy.edges().forEach(function (edge) {
      var e = state.edges.get(edge.id());
      if (!e || !AGG_TYPES[e.type]) { return; }
      if (edge.source().hasClass("hidden") || edge.target().hasClass("hidden")) { return; }
      var r = (e.properties || {}).record_ids;
      if (Array.isArray(r)) { r.forEach(function (x) { ids.add(x); }); }
    });
    return Array.from(ids);
  }
  function scheduleTimeline() { clearTimeout(tlTimer); tlTimer = setTimeout(loadTimeline, 120); }
  async function loadTimeline() {
    var seq = ++tlSeq;
    var ids = recordIdsInView();
    if (!ids.length) { state.timeline = null; drawTimeline(); return; }
    var ans;
    try { ans = await api("/api/timeline", { method: "POST", body: { ids: ids, bucket: $("tl-bucket").value } }); }
    catch (err) { if (seq === tlSeq) { showError(err); } return; }
    if (seq !== tlSeq) { return; }
    state.timeline = ans;
    drawTimeline();
  }

  function parseDay(s) { var p = String(s).slice(0, 10).split("-"); return Date.UTC(+p[0], (+p[1] || 1) - 1, +p[2] || 1); }
  function isoDay(t) { return new Date(t).toISOString().slice(0, 10); }
  function nextStart(start, bucket) {
    var t = parseDay(start);
    if (bucket === "day") { return isoDay(t + 86400000); }
    if (bucket === "week") { return isoDay(t + 7 * 86400000); }
    var d = new Date(t);
    return isoDay(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1));
  }
  function bucketEnd(start, bucket) { return isoDay(parseDay(nextStart(start, bucket)) - 86400000); }

  /* Every bucket from the first to the last (empty ones too), so the axis is time. */
  function fullBuckets(tl) {
    var got = (tl && tl.buckets) || [];
    if (!got.length) { return []; }
    var bucket = tl.bucket || $("tl-bucket").value;
    var by = new Map(got.map(function (b) { return [String(b.start).slice(0, 10), b]; }));
    var starts = Array.from(by.keys()).sort();
    var out = [], cur = starts[0], last = starts[starts.length - 1], guard = 0;
    while (cur <= last && guard < 5000) {
      var b = by.get(cur) || { start: cur, count: 0, value_usd: 0 };
      out.push({ start: cur, end: bucketEnd(cur, bucket), count: Number(b.count) || 0, value_usd: Number(b.value_usd) || 0 });
      cur = nextStart(cur, bucket);
      guard += 1;
    }
    return out;
  }

  var tlGeom = null;
  function drawTimeline() {
    var svg = $("tl-svg");
    clear(svg);
    var w = svg.clientWidth || 600, h = svg.clientHeight || 100;
    svg.setAttribute("viewBox", "0 0 " + w + " " + h);
    var buckets = fullBuckets(state.timeline);
    var measure = $("tl-measure").value;
    tlGeom = null;
    if (!buckets.length) {
      svg.appendChild(svgEl("text", { x: 12, y: 24, "class": "empty" })).textContent =
        cy && cy.nodes().length ? "No dated records in view." : "The records in view appear here, per period.";
      $("tl-summary").textContent = "";
      return;
    }
    var padL = 44, padR = 10, padT = 6, padB = 18;
    var plotW = Math.max(10, w - padL - padR), plotH = Math.max(10, h - padT - padB);
    var max = 0, totalCount = 0, totalValue = 0;
    buckets.forEach(function (b) { max = Math.max(max, b[measure]); totalCount += b.count; totalValue += b.value_usd; });
    var bw = plotW / buckets.length;
    tlGeom = { padL: padL, bw: bw, buckets: buckets, w: w, h: h, padT: padT, plotH: plotH };
    svg.appendChild(svgEl("line", { x1: padL, y1: padT + plotH + 0.5, x2: padL + plotW, y2: padT + plotH + 0.5, "class": "axis" }));
    var ymax = svgEl("text", { x: padL - 4, y: padT + 9, "text-anchor": "end", "class": "tick" });
    ymax.textContent = measure === "count" ? fmtInt(max) : COMPACT.format(max);
    svg.appendChild(ymax);
    var range = state.timeRange;
    buckets.forEach(function (b, i) {
      var v = b[measure];
      var bh = max > 0 ? Math.max(v > 0 ? 1.5 : 0, plotH * v / max) : 0;
      var out = range && (b.end < range.from || b.start > range.to);
      var r = svgEl("rect", { x: padL + i * bw + Math.min(1, bw * 0.1), y: padT + plotH - bh,
                              width: Math.max(1, bw - Math.min(2, bw * 0.2)), height: bh,
                              "class": "bar" + (out ? " out" : ""), "data-start": b.start, "data-count": b.count });
      var title = svgEl("title");
      title.textContent = b.start + (b.end !== b.start ? " \u2013 " + b.end : "") + ": " + fmtInt(b.count) + " records, " + fmtUsd(b.value_usd);
      r.appendChild(title);
      svg.appendChild(r);
    });
    // a few date ticks
    var every = Math.max(1, Math.ceil(buckets.length / Math.max(1, Math.floor(plotW / 80))));
    for (var i = 0; i < buckets.length; i += every) {
      var t = svgEl("text", { x: padL + i * bw + 1, y: h - 4, "class": "tick" });
      t.textContent = $("tl-bucket").value === "month" ? buckets[i].start.slice(0, 7) : buckets[i].start;
      svg.appendChild(t);
    }
    if (range) {
      var i0 = -1, i1 = -1;
      buckets.forEach(function (b, k) { if (!(b.end < range.from || b.start > range.to)) { if (i0 < 0) { i0 = k; } i1 = k; } });
      if (i0 >= 0) { svg.appendChild(svgEl("rect", { x: padL + i0 * bw, y: padT, width: (i1 - i0 + 1) * bw, height: plotH, "class": "brush" })); }
    }
    $("tl-summary").textContent = fmtInt(totalCount) + " records \u00b7 " + fmtUsd(totalValue);
  }

  function bucketAt(clientX) {
    if (!tlGeom) { return -1; }
    var rect = $("tl-svg").getBoundingClientRect();
    var x = (clientX - rect.left) * (tlGeom.w / (rect.width || tlGeom.w));
    var i = Math.floor((x - tlGeom.padL) / tlGeom.bw);
    return Math.max(0, Math.min(tlGeom.buckets.length - 1, i));
  }
  var brushFrom = -1, brushRect = null;
  $("tl-svg").addEventListener("mousedown", function (ev) {
    if (!tlGeom || ev.button !== 0) { return; }
    ev.preventDefault();
    brushFrom = bucketAt(ev.clientX);
    brushRect = svgEl("rect", { x: tlGeom.padL + brushFrom * tlGeom.bw, y: tlGeom.padT, width: tlGeom.bw, height: tlGeom.plotH, "class": "brush" });
    $("tl-svg").appendChild(brushRect);
  });
  window.addEventListener("mousemove", function (ev) {
    if (brushFrom < 0 || !brushRect) { return; }
    var i = bucketAt(ev.clientX), a = Math.min(i, brushFrom), b = Math.max(i, brushFrom);
    brushRect.setAttribute("x", tlGeom.padL + a * tlGeom.bw);
    brushRect.setAttribute("width", (b - a + 1) * tlGeom.bw);
  });
  window.addEventListener("mouseup", function (ev) {
    if (brushFrom < 0) { return; }
    var i = bucketAt(ev.clientX), a = Math.min(i, brushFrom), b = Math.max(i, brushFrom);
    brushFrom = -1; brushRect = null;
    var bs = tlGeom.buckets;
    setTimeRange({ from: bs[a].start, to: bs[b].end });
  });

  function inRange(e) {
    var r = state.timeRange;
    if (!r) { return true; }
    var p = e.properties || {};
    if (e.type && AGG_TYPES[e.type]) {
      var f = p.first_date ? String(p.first_date).slice(0, 10) : null, l = p.last_date ? String(p.last_date).slice(0, 10) : f;
      if (!f) { return true; }
      return !(l < r.from || f > r.to);
    }
    if (RECORD_LABELS[e.label]) {
      var d = p.date ? String(p.date).slice(0, 10) : null;
      return !d || (d >= r.from && d <= r.to);
    }
    return true;
  }
  function applyTimeFilter() {
    cy.batch(function () {
      cy.nodes().forEach(function (node) {
        var n = state.nodes.get(node.id());
        if (n && !inRange(n)) { node.addClass("tl-out"); } else { node.removeClass("tl-out"); }
      });
      cy.edges().forEach(function (edge) {
        var e = state.edges.get(edge.id());
        if (e && !inRange(e)) { edge.addClass("tl-out"); } else { edge.removeClass("tl-out"); }
      });
    });
  }
  function setTimeRange(r) {
    state.timeRange = r;
    applyTimeFilter();
    updateCounts();
    drawTimeline();
    $("tl-range").textContent = r.from + " \u2013 " + r.to;
    $("tl-clear").disabled = false;
    $("tl-apply").disabled = false;
    setStatus("Showing " + r.from + " \u2013 " + r.to + ": " + cy.elements(".tl-out").length + " records and links outside are hidden", "");
  }
  function clearTimeRange(quiet) {
    state.timeRange = null;
    if (cy) { applyTimeFilter(); updateCounts(); }
    drawTimeline();
    $("tl-range").textContent = "";
    $("tl-clear").disabled = true;
    $("tl-apply").disabled = true;
    if (!quiet) { setStatus("Time range cleared", ""); }
  }
  $("tl-clear").addEventListener("click", function () { clearTimeRange(false); });
  $("tl-apply").addEventListener("click", function () {
    var r = state.timeRange;
    if (!r) { return; }
    $("filter-from").value = r.from; $("filter-to").value = r.to;
    clearTimeRange(true);
    replay("Asking again for " + r.from + " \u2013 " + r.to + "\u2026");
  });
  $("tl-bucket").addEventListener("change", loadTimeline);
  $("tl-measure").addEventListener("change", drawTimeline);
  var resizeTimer = null;
  window.addEventListener("resize", function () { clearTimeout(resizeTimer); resizeTimer = setTimeout(drawTimeline, 150); });

  // ------------------------------------------------------------------------------ export
  function viewPayload() {
    var nodes = [], records = new Set();
    cy.nodes().forEach(function (node) {
      if (node.hasClass("hidden") || node.hasClass("tl-out")) { return; }
      nodes.push(node.id());
    });
    var shown = new Set(nodes);
    cy.edges().forEach(function (edge) {
      var e = state.edges.get(edge.id());
      if (!e || !AGG_TYPES[e.type] || edge.hasClass("tl-out")) { return; }
      if (!shown.has(e.source) || !shown.has(e.target)) { return; }
      ((e.properties || {}).record_ids || []).forEach(function (r) { records.add(r); });
    });
    return { nodes: nodes, records: Array.from(records), aggregate: $("filter-aggregate").checked };
  }
  function fileNameOf(resp, fallback) {
    var cd = resp.headers.get("content-disposition") || "";
    var m = /filename\*=UTF-8''([^;]+)/i.exec(cd) || /filename="?([^";]+)"?/i.exec(cd);
    if (m) { try { return decodeURIComponent(m[1]); } catch (e) { return m[1]; } }
    return fallback;
  }
  function download(blob, name) {
    var url = URL.createObjectURL(blob);
    var a = el("a");
    a.href = url; a.download = name; a.hidden = true;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 30000);
  }
  function viewTitle() {
    if (state.alertId) { return "graphiff workbench: alert " + state.alertId; }
    var seeds = state.steps.filter(function (s) { return s.kind === "open"; }).map(function (s) { return s.id; });
    return "graphiff workbench view" + (seeds.length ? ": " + seeds.slice(0, 3).join(", ") : "");
  }
  async function exportView() {
    var body = viewPayload();
    if (!body.nodes.length) { setStatus("Nothing to export: the canvas is empty.", "error"); return; }
    var fmt = $("export-format").value;
    body.format = fmt;
    body.title = viewTitle();
    setStatus("Writing the " + fmt + " chart\u2026", "busy");
    try {
      var resp = await api("/api/export", { method: "POST", body: body, raw: true });
      var blob = await resp.blob();
      var name = fileNameOf(resp, "graphiff-view." + fmt);
      download(blob, name);
      setStatus("Exported " + body.nodes.length + " nodes and " + body.records.length + " records as " + name, "");
    } catch (err) { showError(err); }
  }
  async function makePackage() {
    var body = viewPayload();
    if (!body.nodes.length) { setStatus("Nothing to package: the canvas is empty.", "error"); return; }
    delete body.aggregate;                         // a package holds the records themselves
    body.purpose = $("package-purpose").value.trim();
    body.marking = $("package-marking").value.trim();
    body.redact = $("package-redact").value;
    body.recipient = $("package-recipient").value.trim();
    setStatus("Making the sharing package\u2026", "busy");
    try {
      var resp = await api("/api/package", { method: "POST", body: body, raw: true });
      var blob = await resp.blob();
      var name = fileNameOf(resp, "graphiff-package.zip");
      download(blob, name);
      setStatus("Package for " + body.recipient + " written: " + name + " (" + body.nodes.length + " nodes, " + body.records.length + " records)", "");
    } catch (err) { showError(err); }
  }
  $("btn-export").addEventListener("click", exportView);
  $("btn-package").addEventListener("click", function () {
    if (!viewPayload().nodes.length) { setStatus("Nothing to package: the canvas is empty.", "error"); return; }
    $("package-dialog").showModal();
  });
  $("package-cancel").addEventListener("click", function () { $("package-dialog").close(); });
  $("package-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    if (!$("package-purpose").value.trim() || !$("package-marking").value.trim() || !$("package-recipient").value.trim()) {
      setStatus("A package needs a purpose, a marking and a recipient.", "error");
      return;
    }
    $("package-dialog").close();
    makePackage();
  });

  // ------------------------------------------------------------------------------ toolbar and keys
  $("btn-expand").addEventListener("click", function () { expand(selectedIds()); });
  $("btn-hide").addEventListener("click", function () { hide(selectedIds()); });
  $("btn-pin").addEventListener("click", function () { togglePin(selectedIds()); });
  $("btn-collapse").addEventListener("click", function () { collapse(selectedIds()); });
  $("btn-unhide").addEventListener("click", unhideAll);
  $("btn-layout").addEventListener("click", function () {
    var t0 = performance.now();
    runLayout();
    afterDraw(t0, t0);
  });
  $("btn-fit").addEventListener("click", function () { cy.fit(cy.elements(":visible"), 40); });
  $("btn-clear").addEventListener("click", function () {
    resetCanvas();
    state.steps = []; state.hidden.clear(); state.pinned.clear(); state.alertId = null; state.alert = null;
    $("alert-detail").hidden = true;
    markActiveAlert();
    clearTimeRange(true);
    renderNotes(); updateCounts(); scheduleTimeline();
    resetDetail("Details", "Click a node or a link to see its properties, provenance, aliases and alerts.");
    setStatus("Canvas cleared", "");
  });
  $("btn-apply").addEventListener("click", function () { replay(); });
  $("btn-reset-filters").addEventListener("click", function () {
    $("filter-from").value = ""; $("filter-to").value = ""; $("filter-hops").value = 1; $("filter-limit").value = 300;
    $("filter-hub-limit").value = 200;
    document.querySelectorAll("#filter-types input, #filter-rels input").forEach(function (c) { c.checked = true; });
    replay();
  });
  $("filter-aggregate").addEventListener("change", function () {
    replay($("filter-aggregate").checked ? "Aggregating trade and payments\u2026" : "Showing the underlying records\u2026");
  });
  document.addEventListener("keydown", function (ev) {
    var t = ev.target, tag = t && t.tagName;
    var typing = tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (t && t.isContentEditable);
    if (ev.key === "/" && !typing && !ev.ctrlKey && !ev.metaKey && !ev.altKey) {
      ev.preventDefault();
      $("search").focus();
      $("search").select();
    } else if (ev.key === "Escape") {
      closeMenu();
      closeSearch();
    }
  });
  window.addEventListener("error", function (ev) { setStatus("Error: " + (ev.message || "unknown"), "error"); });
  window.addEventListener("unhandledrejection", function (ev) { showError(ev.reason || "unknown"); });

  // ------------------------------------------------------------------------------ session and sign-in
  var started = false, lastUser = null, idleTimer = null;

  function setSession(s) {
    s = s || {};
    session.user = isObj(s.user) ? s.user : null;
    session.login_required = !!s.login_required;
    session.csrf = s.csrf || null;
    session["case"] = isObj(s["case"]) ? s["case"] : null;
    session.idle_minutes = Number(s.idle_minutes) || 0;
    session.rights = Array.isArray(s.rights) ? s.rights.map(String) : null;
    renderSessionBar();
    applyRights();
    touchIdle();
  }
  function markingClass(m) {
    var t = String(m || "").toUpperCase();
    if (t.indexOf("RED") >= 0) { return "m-red"; }
    if (t.indexOf("AMBER") >= 0) { return "m-amber"; }
    if (t.indexOf("GREEN") >= 0) { return "m-green"; }
    if (t.indexOf("CLEAR") >= 0 || t.indexOf("WHITE") >= 0) { return "m-clear"; }
    return "m-other";
  }
  function markingBadge(m) {
    var b = el("span", m || "no marking", "marking " + markingClass(m));
    b.setAttribute("data-testid", "marking");
    b.title = m || "no marking";            // the whole marking, when a long one is cut short
    return b;
  }
  function renderSessionBar() {
    var u = session.user;
    $("sessionbar").hidden = !session.caseWork;
    $("user-box").hidden = !u;
    $("user-name").textContent = u ? shown(u.name) : "";
    $("user-role").textContent = u ? shown(u.role) : "";
    $("btn-logout").hidden = !u || !!u.local;
    $("local-note").hidden = !(u && u.local);
    var b = $("case-banner");
    clear(b);
    var c = session["case"];
    if (!c) {
      b.className = "none";
      b.removeAttribute("data-case");
      b.appendChild(el("span", "No case open: what you do is recorded in the audit log without a stated purpose. " +
                       "Open or create a case under Cases (left)."));
    } else {
      b.className = "open " + markingClass(c.marking);
      b.setAttribute("data-case", c.id);
      b.appendChild(el("span", "Case " + c.id, "cb-id"));
      var name = el("strong", c.name, "cb-name");
      name.setAttribute("data-testid", "case-banner-name");
      b.appendChild(name);
      var purpose = el("span", "Purpose: " + (c.purpose || "\u2014"), "cb-purpose");
      purpose.title = c.purpose || "";      // a long purpose is cut at two lines in the banner
      purpose.setAttribute("data-testid", "case-banner-purpose");
      b.appendChild(purpose);
      b.appendChild(markingBadge(c.marking));
      var leave = el("button", "Leave case");
      leave.type = "button";
      leave.setAttribute("data-testid", "btn-leave-case");
      leave.title = "Work without a case (the audit log then names no purpose)";
      leave.addEventListener("click", function () { openCase(null); });
      b.appendChild(leave);
    }
    markActiveCase();
  }
  /* What the role may do: buttons it may not use are not shown. */
  function applyRights() {
    $("btn-package").hidden = !can("package");
    $("btn-export").hidden = !can("export");
    $("export-format").hidden = !can("export");
    $("cases").hidden = !session.caseWork;
    $("btn-new-case").hidden = !can("case");
    if (state.caseDoc) { renderCase(state.caseDoc); }
    if (state.alert) { renderTriage(state.alert); }
  }

  function touchIdle() {
    clearTimeout(idleTimer);
    if (!session.user || session.user.local || !session.idle_minutes) { return; }
    // a little after the server's own idle limit: the screen no longer shows the data
    idleTimer = setTimeout(function () { signedOut("idle"); }, session.idle_minutes * 60000 + 5000);
  }

  function showLogin(note) {
    ["package-dialog", "case-dialog", "case-package-dialog"].forEach(function (id) { if ($(id).open) { $(id).close(); } });
    closeMenu(); closeSearch();
    document.body.classList.add("signed-out");
    $("login").hidden = false;
    $("login-note").textContent = note ? shown(note) : "";
    $("login-note").hidden = !note;
    $("login-error").hidden = true;
    $("login-password").value = "";
    G.signedIn = false;
    ($("login-name").value ? $("login-password") : $("login-name")).focus();
  }
  function hideLogin() {
    document.body.classList.remove("signed-out");
    $("login").hidden = true;
    G.signedIn = true;
  }
  function loginError(text) {
    $("login-error").textContent = shown(text);
    $("login-error").hidden = false;
  }
  /* The session is over: signed out here, ended by the server (401), or idle. The page is
     hidden behind the sign-in form; after signing out, what it showed is dropped. */
  function signedOut(reason, message) {
    if (document.body.classList.contains("signed-out")) { return; }
    clearTimeout(idleTimer);
    session.user = null; session.csrf = null; session["case"] = null; session.login_required = true;
    G.ready = false;
    var note;
    if (reason === "logout") { note = "You have signed out."; resetWorkspace(); lastUser = null; }
    else if (reason === "idle") { note = "Your session ended after " + session.idle_minutes + " minutes without activity: sign in again."; }
    else { note = "Your session has ended" + (message ? " (" + message + ")" : "") + ": sign in again to go on."; }
    showLogin(note);
  }
  /* Drops everything the page shows (another user signs in, or the user signed out). */
  function resetWorkspace() {
    state.caseDoc = null; state.alert = null; state.alertId = null;
    $("case-detail").hidden = true;
    clear($("case-list")); $("case-count").textContent = "";
    clear($("alert-list")); $("alert-count").textContent = "";
    $("alert-detail").hidden = true;
    $("search").value = ""; results = []; shownQuery = null; closeSearch();
    $("triage-note").value = ""; $("case-note").value = "";
    if (cy) {
      resetCanvas();
      state.steps = []; state.hidden.clear(); state.pinned.clear();
      state.timeline = null;
      clearTimeRange(true);
      renderNotes(); updateCounts();
      resetDetail("Details", "Click a node or a link to see its properties, provenance, aliases and alerts.");
    }
    setStatus("", "");
  }

  $("login-form").addEventListener("submit", async function (ev) {
    ev.preventDefault();
    var name = $("login-name").value.trim(), password = $("login-password").value;
    if (!name || !password) { loginError("Give your user name and your password."); return; }
    $("login-go").disabled = true;
    $("login-error").hidden = true;
    var s;
    try {
      s = await api("/api/login", { method: "POST", body: { name: name, password: password }, quiet401: true });
    } catch (err) {
      $("login-password").value = "";
      $("login-password").focus();
      loginError(err.status === 401 || err.status === 403 ? err.message : "Sign-in failed: " + err.message);
      return;
    } finally {
      $("login-go").disabled = false;
    }
    $("login-password").value = "";
    var who = s && s.user ? s.user.name : null;
    if (lastUser && who !== lastUser) { resetWorkspace(); }
    lastUser = who;
    setSession(s);
    hideLogin();
    if (!started) { await start(); } else { await resume(); }
  });
  $("btn-logout").addEventListener("click", async function () {
    try { await api("/api/logout", { method: "POST", quiet401: true }); }
    catch (err) { if (err.status !== 401) { showError(err); return; } }
    signedOut("logout");
  });

  // ------------------------------------------------------------------------------ cases
  var caseSeq = 0;
  function plural(n, one, many) { return fmtInt(n) + " " + (n === 1 ? one : many); }
  async function loadCases() {
    if (!session.caseWork) { return; }
    var seq = ++caseSeq;
    var ans;
    try { ans = await api("/api/cases" + query({ status: $("case-filter").value })); }
    catch (err) { if (seq === caseSeq) { showError(err); } return; }
    if (seq !== caseSeq) { return; }
    var list = $("case-list");
    clear(list);
    var cases = ans.cases || [];
    $("case-count").textContent = String(cases.length);
    if (!cases.length) {
      list.appendChild(el("li", $("case-filter").value === "closed" ? "No closed case." : "No case yet.", "none"));
    }
    cases.forEach(function (c) {
      var li = el("li");
      li.setAttribute("data-testid", "case-item");
      li.setAttribute("data-id", c.id);
      li.tabIndex = 0;
      var head = el("div", null, "cs-head");
      head.appendChild(el("span", c.id, "cs-id"));
      head.appendChild(el("span", c.name, "cs-name"));
      head.appendChild(markingBadge(c.marking));
      li.appendChild(head);
      var bits = [];
      var ne = c.n_entities !== undefined ? Number(c.n_entities) : (c.entities || []).length;
      var na = c.n_alerts !== undefined ? Number(c.n_alerts) : (c.alerts || []).length;
      bits.push(plural(ne, "entity", "entities"), plural(na, "alert", "alerts"));
      if (c.status === "closed") { bits.push("closed"); }
      if (c.created_by) { bits.push("by " + c.created_by); }
      li.appendChild(el("div", bits.join(" \u00b7 "), "cs-meta"));
      if (c.purpose) { li.appendChild(el("div", truncate(c.purpose, 120), "cs-purpose")); }
      var pick = function () { if (c.status === "closed") { viewClosedCase(c.id); } else { openCase(c.id); } };
      li.addEventListener("click", pick);
      li.addEventListener("keydown", function (ev) { if (ev.key === "Enter") { pick(); } });
      list.appendChild(li);
    });
    markActiveCase();
  }
  function markActiveCase() {
    var id = session["case"] ? session["case"].id : null;
    document.querySelectorAll("#case-list li").forEach(function (li) {
      li.classList.toggle("active", !!id && li.getAttribute("data-id") === id);
    });
  }

  /* Opens the case `id` for this session (null: no case): from now on the audit log names it
     and its purpose. Its details go to the panel on the right. */
  async function openCase(id) {
    var s;
    try { s = await api("/api/session/case", { method: "PUT", body: { "case": id } }); }
    catch (err) { showError(err); return false; }
    setSession(s);
    if (!id) {
      state.caseDoc = null;
      $("case-detail").hidden = true;
      setStatus("No case open now: what you do is recorded without a stated purpose", "");
      return true;
    }
    if (!(await loadCaseDoc(id))) { return false; }
    setStatus("Case " + id + " opened: what you do now is recorded under its purpose", "");
    return true;
  }
  /* A closed case cannot be the session's case: it is shown read-only (a supervisor may reopen it). */
  async function viewClosedCase(id) {
    if (await loadCaseDoc(id)) { setStatus("Case " + id + " is closed: read-only until a supervisor reopens it", ""); }
  }
  async function loadCaseDoc(id) {
    try { renderCase(await api("/api/cases/" + encodeURIComponent(id))); return true; }
    catch (err) { showError(err); return false; }
  }
  function caseOf(ans) { return isObj(ans) && isObj(ans["case"]) && !ans.id ? ans["case"] : ans; }
  function renderCase(c) {
    c = caseOf(c);
    state.caseDoc = c;
    var sec = $("case-detail");
    sec.hidden = false;
    sec.setAttribute("data-id", c.id);
    $("case-title").textContent = shown(c.id + " \u00b7 " + (c.name || ""));
    var open = c.status !== "closed";
    $("case-state").textContent = open ? "open" : "closed";
    $("case-state").className = "badge " + (open ? "cs-open" : "cs-closed");
    var t = $("case-fields");
    clear(t);
    kvRow(t, "purpose", c.purpose);
    kvRow(t, "legal basis", c.legal_basis);
    kvRow(t, "marking", c.marking);
    kvRow(t, "opened", [c.created_by, fmtTime(c.created_at)].filter(Boolean).join(", "));
    if (!open) { kvRow(t, "closed", [c.closed_by, fmtTime(c.closed_at)].filter(Boolean).join(", ")); }
    var ents = c.entities || [], alerts = c.alerts || [];
    $("case-n-entities").textContent = "(" + ents.length + ")";
    $("case-n-alerts").textContent = "(" + alerts.length + ")";
    var ul = $("case-entities");
    clear(ul);
    ents.forEach(function (id) {
      var n = state.nodes.get(id);
      var li = el("li");
      li.appendChild(linkButton(n ? n.label + ": " + truncate(n.caption || keyOf(id), 60) + " (" + keyOf(id) + ")" : id, function () {
        if (cy.getElementById(id).nonempty()) { focusNode(id); } else { openEntity(id); }
      }, "case-entity"));
      li.lastChild.setAttribute("data-id", id);
      ul.appendChild(li);
    });
    if (!ents.length) { ul.appendChild(el("li", "None yet: select nodes and Add selection, or Add alert to case.", "muted")); }
    var ua = $("case-alerts");
    clear(ua);
    alerts.forEach(function (id) {
      var li = el("li");
      li.appendChild(linkButton(id, function () { openAlert(id); }, "case-alert"));
      ua.appendChild(li);
    });
    if (!alerts.length) { ua.appendChild(el("li", "None yet.", "muted")); }
    renderNoteList($("case-notes"), c.notes, "No note yet.");
    var hist = $("case-history");
    clear(hist);
    (c.history || []).forEach(function (h) { hist.appendChild(el("li", fmtTime(h.at) + " \u00b7 " + (h.user || "?") + ": " + (h.action || ""))); });
    var change = open && can("case");
    $("btn-case-add").hidden = !change;
    $("btn-case-layout").hidden = !change;
    $("case-note-box").hidden = !change;
    $("btn-case-export").hidden = !can("export");
    $("case-export-format").hidden = !can("export");
    $("btn-case-package").hidden = !can("package");
    $("btn-case-close").hidden = !(open && can("case_close"));
    $("btn-case-reopen").hidden = !(!open && can("case_close"));
  }
  function needCase() {
    var c = state.caseDoc;
    if (!c || !session["case"] || session["case"].id !== c.id) {
      setStatus("Open a case first (Cases, on the left), or create one with New case\u2026", "error");
      return null;
    }
    return c;
  }
  async function caseChange(c, path, method, body, said) {
    var ans;
    try { ans = await api("/api/cases/" + encodeURIComponent(c.id) + path, { method: method, body: body }); }
    catch (err) { showError(err); return null; }
    renderCase(ans);
    if (said) { setStatus(said, ""); }
    loadCases();
    return ans;
  }
  async function addToCase(entities, alerts, what) {
    var c = needCase();
    if (!c) { return; }
    if (!entities.length && !alerts.length) {
      setStatus("Select nodes on the canvas first (click; shift-click or shift-drag for more).", "error");
      return;
    }
    await caseChange(c, "/items", "POST", { entities: entities, alerts: alerts }, "Added " + what + " to case " + c.id);
  }
  function addSelection() {
    var ents = [], alerts = [];
    cy.nodes(":selected").forEach(function (n) {
      if (n.data("label") === "Alert") { alerts.push(keyOf(n.id())); } else { ents.push(n.id()); }
    });
    var bits = [];
    if (ents.length) { bits.push(plural(ents.length, "entity", "entities")); }
    if (alerts.length) { bits.push(plural(alerts.length, "alert", "alerts")); }
    addToCase(ents, alerts, bits.join(" and "));
  }
  function positionOf(p) {
    if (Array.isArray(p) && p.length >= 2 && isFinite(Number(p[0])) && isFinite(Number(p[1]))) { return { x: Number(p[0]), y: Number(p[1]) }; }
    if (isObj(p) && isFinite(Number(p.x)) && isFinite(Number(p.y))) { return { x: Number(p.x), y: Number(p.y) }; }
    return null;
  }
  /* Puts the nodes a saved layout places where they were; how many it placed. */
  function placeSaved(layout) {
    layout = layout || {};
    var placed = 0;
    cy.batch(function () {
      cy.nodes().forEach(function (n) {
        var p = positionOf(layout[n.id()]);
        if (p) { n.unlock(); n.position(p); placed += 1; }
      });
    });
    if (placed) {
      cy.fit(cy.elements(":visible"), 40);
      if (cy.zoom() > 1.5) { cy.zoom(1.5); cy.center(cy.elements(":visible")); }
    }
    return placed;
  }
  /* Draws the open case: its entities and alerts, where its saved layout put them. */
  async function showCase() {
    var c = state.caseDoc;
    if (!c) { return; }
    setStatus("Drawing case " + c.id + "\u2026", "busy");
    var t0 = performance.now(), ans;
    try { ans = await api("/api/cases/" + encodeURIComponent(c.id) + "/subgraph" + query({ aggregate: filters().aggregate })); }
    catch (err) { showError(err); return; }
    var sub = (ans && ans.subgraph) || {};
    var tData = performance.now();
    resetCanvas();
    state.steps = [{ kind: "case", id: c.id }];
    state.hidden.clear(); state.pinned.clear();
    clearTimeRange(true);
    state.alertId = null; state.alert = null;
    $("alert-detail").hidden = true;
    markActiveAlert();
    merge(sub, "case:" + c.id, null);
    noteLeftOut([sub]);
    var n = cy.nodes().length, saved = 0;
    cy.nodes().forEach(function (x) { if (positionOf((c.layout || {})[x.id()])) { saved += 1; } });
    if (n && saved < n) { runLayout(n <= 12 ? "circle" : undefined); }
    placeSaved(c.layout);
    renderNotes();
    updateCounts();
    renderCase(c);           // the entities' names are known now
    await afterDraw(t0, tData);
    setStatus(n ? "Case " + c.id + " on the canvas: " + plural(n, "node", "nodes") + (saved ? ", " + saved + " where its layout put them" : "")
                : "Case " + c.id + " holds nothing yet: add the selection or an alert to it", "");
    scheduleTimeline();
  }
  async function saveLayout() {
    var c = needCase();
    if (!c) { return; }
    var layout = {}, n = 0;
    cy.nodes().forEach(function (node) {
      if (node.hasClass("hidden")) { return; }
      var p = node.position();
      layout[node.id()] = [Math.round(p.x * 10) / 10, Math.round(p.y * 10) / 10];
      n += 1;
    });
    if (!n) { setStatus("Nothing on the canvas: show the case (or build a view) first.", "error"); return; }
    await caseChange(c, "/layout", "PUT", { layout: layout }, "Layout of " + plural(n, "node", "nodes") + " saved in case " + c.id);
  }
  async function addCaseNote() {
    var c = needCase();
    if (!c) { return; }
    var text = $("case-note").value.trim();
    if (!text) { setStatus("Write the note first.", "error"); return; }
    if (await caseChange(c, "/notes", "POST", { text: text }, "Note added to case " + c.id)) { $("case-note").value = ""; }
  }
  async function exportCase() {
    var c = state.caseDoc;
    if (!c) { return; }
    var fmt = $("case-export-format").value;
    setStatus("Writing case " + c.id + " as " + fmt + "\u2026", "busy");
    try {
      var resp = await api("/api/cases/" + encodeURIComponent(c.id) + "/export", { method: "POST", body: { format: fmt, aggregate: $("filter-aggregate").checked }, raw: true });
      var blob = await resp.blob();
      var name = fileNameOf(resp, c.id + "." + fmt);
      download(blob, name);
      setStatus("Exported case " + c.id + " as " + name, "");
    } catch (err) { showError(err); }
  }
  async function packageCase() {
    var c = state.caseDoc;
    if (!c) { return; }
    var body = { recipient: $("case-package-recipient").value.trim(), redact: $("case-package-redact").value };
    setStatus("Making the sharing package of case " + c.id + "\u2026", "busy");
    try {
      var resp = await api("/api/cases/" + encodeURIComponent(c.id) + "/package", { method: "POST", body: body, raw: true });
      var blob = await resp.blob();
      var name = fileNameOf(resp, c.id + ".zip");
      download(blob, name);
      setStatus("Package of case " + c.id + " for " + body.recipient + " written: " + name, "");
    } catch (err) { showError(err); }
  }
  async function createCase() {
    var body = { name: $("case-name").value.trim(), purpose: $("case-purpose").value.trim(),
                 legal_basis: $("case-legal").value.trim(), marking: $("case-marking").value.trim() };
    if (!body.name || !body.purpose || !body.legal_basis || !body.marking) {
      setStatus("A case needs a name, a purpose, a legal basis and a marking.", "error");
      return;
    }
    $("case-dialog").close();
    setStatus("Creating the case\u2026", "busy");
    var c;
    try { c = caseOf(await api("/api/cases", { method: "POST", body: body })); }
    catch (err) { showError(err); return; }
    $("case-name").value = ""; $("case-purpose").value = ""; $("case-legal").value = "";
    $("case-filter").value = "open";
    await openCase(c.id);
    loadCases();
  }

  $("case-filter").addEventListener("change", loadCases);
  $("btn-new-case").addEventListener("click", function () { $("case-dialog").showModal(); $("case-name").focus(); });
  $("case-cancel").addEventListener("click", function () { $("case-dialog").close(); });
  $("case-form").addEventListener("submit", function (ev) { ev.preventDefault(); createCase(); });
  $("btn-case-show").addEventListener("click", showCase);
  $("btn-case-add").addEventListener("click", addSelection);
  $("btn-case-layout").addEventListener("click", saveLayout);
  $("btn-case-note").addEventListener("click", addCaseNote);
  $("case-note").addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); addCaseNote(); }
  });
  $("btn-case-export").addEventListener("click", exportCase);
  $("btn-case-package").addEventListener("click", function () { $("case-package-dialog").showModal(); $("case-package-recipient").focus(); });
  $("case-package-cancel").addEventListener("click", function () { $("case-package-dialog").close(); });
  $("case-package-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    if (!$("case-package-recipient").value.trim()) { setStatus("A package names its recipient.", "error"); return; }
    $("case-package-dialog").close();
    packageCase();
  });
  $("btn-case-close").addEventListener("click", async function () {
    var c = state.caseDoc;
    if (!c || !(await caseChange(c, "/close", "POST", undefined, "Case " + c.id + " closed (read-only until reopened)"))) {
      return;
    }
    // a closed case is no session's case: the server left it; the banner follows
    var s = null;
    try { s = await api("/api/session", { quiet401: true }); } catch (e) { s = null; }
    if (s && s.user) { setSession(s); }
  });
  $("btn-case-reopen").addEventListener("click", async function () {
    var c = state.caseDoc;
    if (c && await caseChange(c, "/reopen", "POST", undefined, "Case " + c.id + " reopened")) { openCase(c.id); }
  });

  // ------------------------------------------------------------------------------ start
  /* The page once signed in: styles, canvas, legend, filters, health, alerts and cases. */
  async function start() {
    started = true;
    var S;
    try {
      S = await api("/api/styles");
    } catch (err) {
      showError(err);
      S = { styles: {}, labels: [], rel_types: [] };
    }
    state.styles = S;
    initCanvas();
    buildLegend();
    buildChecklist($("filter-types"), S.labels || Object.keys(S.styles || {}), true);
    buildChecklist($("filter-rels"), S.rel_types || [], false);
    drawTimeline();
    updateCounts();
    try {
      var h = await api("/api/health");
      var bits = [h.store + " store"];
      if (h.nodes !== undefined) { bits.push(fmtInt(h.nodes) + " nodes"); }
      if (h.relationships !== undefined) { bits.push(fmtInt(h.relationships) + " relationships"); }
      if (h.alerts !== undefined) { bits.push(fmtInt(h.alerts) + " alerts"); }
      if (h.resolved) { bits.push("entities resolved"); }
      if (h.version) { bits.push("graphiff " + h.version); }
      $("health").textContent = bits.join(" \u00b7 ");
    } catch (err) { showError(err); }
    await Promise.all([loadAlerts(), loadCases(), session["case"] ? loadCaseDoc(session["case"].id) : null]);
    G.ready = true;
  }
  /* Signed in again after the session ended: the same page, asked again. */
  async function resume() {
    cy.resize();
    drawTimeline();
    await Promise.all([loadAlerts(), loadCases(), session["case"] ? loadCaseDoc(session["case"].id) : null]);
    if (!session["case"]) { state.caseDoc = null; $("case-detail").hidden = true; }
    G.ready = true;
    setStatus("Signed in as " + session.user.name, "");
  }
  async function boot() {
    buildStatusFilter();
    fillTriageStatus();
    var s = null;
    try { s = await api("/api/session", { quiet401: true }); }
    catch (err) {
      if (err.status === 404) { session.caseWork = false; }   // a server without case work
      else { showError(err); }
    }
    if (s) { setSession(s); lastUser = s.user ? s.user.name : null; }
    else { renderSessionBar(); applyRights(); }
    if (s && s.login_required && !s.user) { showLogin(); return; }
    G.signedIn = true;
    await start();
  }

  // a few entry points for scripts and benchmarks (the page itself uses the same functions)
  G.open = openEntity;
  G.expand = function (id) { return expand([id]); };
  G.openAlert = openAlert;
  G.view = function () { return viewPayload(); };
  G.openCase = openCase;
  G.showCase = showCase;
  /* who is signed in, the role's rights and the open case (not the CSRF token) */
  G.session = function () {
    return { user: session.user, login_required: session.login_required, "case": session["case"],
             rights: session.rights, idle_minutes: session.idle_minutes, caseWork: session.caseWork };
  };

  boot();
})();
