/* graphiff link chart viewer. Data comes from the JSON block #graphiff-data; every value taken
   from it is shown with textContent only (never innerHTML), so hostile names stay text. */
(function () {
  "use strict";

  var statusEl = document.getElementById("status");
  function $(id) { return document.getElementById(id); }
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    if (cls) { e.className = cls; }
    return e;
  }
  function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } }
  function truncate(s, n) { s = String(s); return s.length <= n ? s : s.slice(0, n - 1) + "\u2026"; }

  var t0 = performance.now();
  var DATA = JSON.parse($("graphiff-data").textContent);
  var PROV = DATA.provenance;
  var NODES = DATA.nodes, EDGES = DATA.edges, STYLES = DATA.styles;
  var byId = Object.create(null);
  NODES.forEach(function (n, i) { byId[n.id] = i; });

  $("title").textContent = DATA.title;
  document.title = DATA.title;
  $("counts").textContent = NODES.length + " nodes \u00b7 " + EDGES.length + " relationships";
  $("omitted").textContent = DATA.omitted_note + (DATA.hubs_note ? " " + DATA.hubs_note : "");

  var tParsed = performance.now();
  var big = NODES.length > 1500;

  // ----------------------------------------------------------------------------------- elements
  var elements = [];
  var lowerCaption = [], lowerKey = [];
  var labelClass = Object.create(null);          // entity label -> "L<k>" (safe class name)
  DATA.labels.forEach(function (item, k) { labelClass[item.label] = "L" + k; });
  NODES.forEach(function (n, i) {
    var classes = [labelClass[n.label]];
    if (n.label === "Alert") { classes.push("alert"); }
    if (n.flagged_by && n.flagged_by.length) { classes.push("flagged"); }
    if (n.seed) { classes.push("seed"); }
    if (n.hub) { classes.push("hub"); }
    elements.push({
      group: "nodes",
      data: { id: n.id, idx: i, name: truncate(n.caption, 28) },
      position: { x: n.x, y: n.y },
      classes: classes.join(" ")
    });
    lowerCaption.push(String(n.caption).toLowerCase());
    // a resolved entity is found by the key of any of its records
    lowerKey.push([n.key].concat(n.aliases || []).join("\n").toLowerCase());
  });
  var EDGE_STYLES = DATA.edge_styles;
  EDGES.forEach(function (e, i) {
    var edge = { group: "edges", data: { id: "e" + i, idx: i, source: e.source, target: e.target, type: e.type,
                                         caption: e.caption || "" } };
    if (e.style && EDGE_STYLES[e.style]) { edge.classes = "x-" + e.style; }
    elements.push(edge);
  });

  var style = [
    { selector: "node", style: {
      "background-color": DATA.default_style.colour, "shape": DATA.default_style.shape,
      "width": DATA.default_style.size, "height": DATA.default_style.size,
      "label": big ? "" : "data(name)", "font-size": 9, "min-zoomed-font-size": 7, "text-valign": "bottom", "text-margin-y": 2,
      "color": "#333", "text-outline-color": "#fff", "text-outline-width": 1.5,
      "border-width": 1, "border-color": "#555" } },
    { selector: "node.hub", style: { "border-style": "dashed", "border-width": 4, "border-color": "#444" } },
    { selector: "node.flagged", style: { "border-width": 5, "border-color": "#d62728" } },
    { selector: "node.alert", style: { "border-width": 3, "border-color": "#7a0000", "font-weight": "bold", "color": "#a00000", "z-index": 20 } },
    { selector: "node.seed", style: { "border-style": "double", "border-width": 6 } },
    { selector: "edge", style: {
      "width": 1.2, "line-color": "#b5b5b5", "curve-style": big ? "haystack" : "bezier",
      "target-arrow-shape": big ? "none" : "triangle", "target-arrow-color": "#b5b5b5", "arrow-scale": 0.8,
      "label": "", "font-size": 7, "min-zoomed-font-size": 9 } },
    { selector: "node.lbl", style: { "label": "data(name)" } },
    { selector: ".dim", style: { "opacity": 0.12 } },
    { selector: "node.match", style: { "border-width": 5, "border-color": "#f5c400", "z-index": 30, "label": "data(name)" } },
    { selector: ".hidden", style: { "display": "none" } },
    { selector: "node:selected", style: { "overlay-color": "#1a5fb4", "overlay-opacity": 0.25, "overlay-padding": 6 } },
    { selector: "edge:selected", style: { "line-color": "#1a5fb4", "target-arrow-color": "#1a5fb4", "width": 3, "label": "data(type)" } }
  ];
  // relationships drawn otherwise (FLAGS, SAME_AS, TRADED_WITH, PAID...): one class selector per
  // style of style.py, right after the plain "edge" style so that they override it
  var edgeAt = 0;
  style.forEach(function (rule, k) { if (rule.selector === "edge") { edgeAt = k + 1; } });
  Object.keys(EDGE_STYLES).forEach(function (name, k) {
    var st = EDGE_STYLES[name];
    var look = { "line-color": st.colour, "target-arrow-color": st.colour, "line-style": st.line, "width": st.width };
    if (!st.arrow) { look["target-arrow-shape"] = "none"; }
    if (st.caption) { look["label"] = "data(caption)"; look["color"] = st.colour; look["text-rotation"] = "autorotate"; }
    style.splice(edgeAt + k, 0, { selector: "edge.x-" + name, style: look });
  });
  // per-label look: one class selector per label (cheaper than data mappers on big charts)
  DATA.labels.forEach(function (item, k) {
    var st = STYLES[item.label] || DATA.default_style;
    style.splice(1, 0, { selector: "node.L" + k, style: {
      "background-color": st.colour, "shape": st.shape, "width": st.size, "height": st.size } });
  });

  var cy = cytoscape({
    container: $("cy"),
    elements: elements,
    style: style,
    layout: { name: "preset", fit: true, padding: 30 },
    minZoom: 0.02, maxZoom: 6,
    boxSelectionEnabled: false,
    selectionType: "single",
    textureOnViewport: big,
    hideEdgesOnViewport: big,
    motionBlur: false,
    pixelRatio: big ? 1 : "auto"
  });
  window.graphiffCy = cy;
  var tInit = performance.now();

  // ----------------------------------------------------------------------------- details panel
  function row(table, key, value) {
    var tr = el("tr");
    tr.appendChild(el("td", key));
    tr.appendChild(el("td", value === null || value === undefined || value === "" ? "\u2014" : value));
    table.appendChild(tr);
  }
  function nodeButton(i) {
    var n = NODES[i];
    var b = el("button", n.label + ": " + truncate(n.caption, 60), "linkbtn");
    b.type = "button";
    b.addEventListener("click", function () { focusNode(n.id); });
    return b;
  }
  function fillProps(rec) {
    var props = $("props"), prov = $("prov");
    clear(props); clear(prov);
    var keys = Object.keys(rec.props || {});
    keys.forEach(function (k) { if (PROV.indexOf(k) < 0) { row(props, k, rec.props[k]); } });
    PROV.forEach(function (k) { row(prov, k, rec.props ? rec.props[k] : null); });
    $("props-head").hidden = false;
    $("prov-head").hidden = false;
  }
  function showNode(i) {
    var n = NODES[i];
    $("panel-title").textContent = n.caption;
    $("panel-sub").textContent = n.label + " \u00b7 key " + n.key;
    var flags = $("panel-flags");
    clear(flags);
    if (n.label === "Alert") { flags.appendChild(el("div", "Alert", "alert-note")); }
    if (n.flagged_by && n.flagged_by.length) {
      flags.appendChild(el("div", "Flagged by " + n.flagged_by.length + " alert(s):", "alert-note"));
      n.flagged_by.forEach(function (aid) { if (aid in byId) { flags.appendChild(el("div")).appendChild(nodeButton(byId[aid])); } });
    }
    if (n.hub) {
      flags.appendChild(el("div", "Hub, not expanded: " + n.hub
                           + ". Narrow the dates or relationship types to expand it.", "hub-note"));
    }
    if (n.aliases && n.aliases.length) {
      var names = n.props && n.props.alias_names ? " (" + n.props.alias_names + ")" : "";
      flags.appendChild(el("div", (n.aliases.length + 1) + " records joined by entity resolution; same as: "
                           + n.aliases.join(", ") + names, "same-note"));
    }
    fillProps(n);
    var links = $("links");
    clear(links);
    var nb = cy.getElementById(n.id).connectedEdges();
    $("links-head").hidden = false;
    $("links-head").textContent = "Connections (" + nb.length + ")";
    nb.slice(0, 200).forEach(function (edge) {
      var e = EDGES[edge.data("idx")];
      var other = e.source === n.id ? e.target : e.source;
      var line = el("div");
      var what = e.folded ? e.type + " (" + e.caption + ")" : e.type;
      line.appendChild(el("span", (e.source === n.id ? what + " \u2192 " : "\u2190 " + what + " ") , "muted"));
      line.appendChild(nodeButton(byId[other]));
      links.appendChild(line);
    });
    if (nb.length > 200) { links.appendChild(el("div", "\u2026 and " + (nb.length - 200) + " more", "muted")); }
  }
  function showEdge(i) {
    var e = EDGES[i];
    $("panel-title").textContent = e.folded ? e.type + ": " + e.caption : e.type;
    $("panel-sub").textContent = e.folded ? e.folded + " folded into one link (" + e.id + ")" : "relationship " + e.id;
    clear($("panel-flags"));
    fillProps(e);
    var links = $("links");
    clear(links);
    $("links-head").hidden = false;
    $("links-head").textContent = "Ends";
    var a = el("div"); a.appendChild(el("span", "from ", "muted")); a.appendChild(nodeButton(byId[e.source])); links.appendChild(a);
    var b = el("div"); b.appendChild(el("span", "to ", "muted")); b.appendChild(nodeButton(byId[e.target])); links.appendChild(b);
  }
  function focusNode(id) {
    var node = cy.getElementById(id);
    if (node.empty()) { return; }
    cy.elements().unselect();
    node.select();
    if (!node.hasClass("hidden")) { cy.animate({ center: { eles: node }, zoom: Math.max(cy.zoom(), 1) }, { duration: 250 }); }
    showNode(node.data("idx"));
  }
  cy.on("tap", "node", function (evt) { showNode(evt.target.data("idx")); });
  cy.on("tap", "edge", function (evt) { showEdge(evt.target.data("idx")); });

  // ------------------------------------------------------------------------ legend and filters
  // a label's swatch: an SVG path of the very shape cytoscape draws (precomputed in style.py)
  var SVG_NS = "http://www.w3.org/2000/svg";
  function swatch(st) {
    var svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("class", "swatch");
    svg.setAttribute("viewBox", "0 0 20 20");
    svg.setAttribute("width", "16"); svg.setAttribute("height", "16");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("data-shape", st.shape);
    var path = document.createElementNS(SVG_NS, "path");
    path.setAttribute("d", st.swatch);
    path.setAttribute("fill", st.colour);
    path.setAttribute("stroke", "#555");
    path.setAttribute("stroke-width", "1");
    svg.appendChild(path);
    return svg;
  }
  var legend = $("legend");
  DATA.labels.forEach(function (item) {
    var st = STYLES[item.label] || DATA.default_style;
    var lab = el("label", null, "legend-row");
    var box = el("input");
    box.type = "checkbox"; box.checked = true; box.setAttribute("data-label", item.label);
    box.addEventListener("change", function () {
      var on = box.checked;
      cy.batch(function () {
        cy.nodes().forEach(function (node) {
          if (NODES[node.data("idx")].label === item.label) { if (on) { node.removeClass("hidden"); } else { node.addClass("hidden"); } }
        });
      });
    });
    var sw = swatch(st);
    lab.appendChild(box); lab.appendChild(sw); lab.appendChild(el("span", item.label)); lab.appendChild(el("span", "(" + item.count + ")", "muted"));
    legend.appendChild(lab);
  });
  var edgeLegend = $("edge-legend");
  DATA.edge_types.forEach(function (item) { edgeLegend.appendChild(el("div", item.type + " (" + item.count + ")")); });

  // ------------------------------------------------------------------------------------ search
  var timer = null, matches = [];
  function runSearch() {
    var q = $("search").value.trim().toLowerCase();
    matches = [];
    cy.batch(function () {
      cy.elements().removeClass("dim match");
      if (!q) { return; }
      cy.nodes().forEach(function (node) {
        var i = node.data("idx");
        if (lowerCaption[i].indexOf(q) >= 0 || lowerKey[i].indexOf(q) >= 0) { node.addClass("match"); matches.push(node); }
        else { node.addClass("dim"); }
      });
      cy.edges().addClass("dim");
    });
    $("search-count").textContent = q ? matches.length + " match" + (matches.length === 1 ? "" : "es") : "";
  }
  $("search").addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(runSearch, 120); });
  $("search").addEventListener("keydown", function (ev) {
    if (ev.key !== "Enter") { return; }
    clearTimeout(timer); runSearch();
    if (matches.length === 1) { focusNode(matches[0].id()); }
    else if (matches.length > 1) { cy.fit(cy.collection(matches), 40); }
  });
  $("fit").addEventListener("click", function () { cy.fit(cy.elements(":visible"), 30); });

  // big charts: captions only for the nodes in view once zoomed in (drawing 5,000 is slow)
  if (big) {
    var labelled = cy.collection(), relabelTimer = null;
    var relabel = function () {
      var next = cy.collection();
      if (cy.zoom() >= 0.8) {
        var ext = cy.extent();
        next = cy.nodes().filter(function (node) {
          var p = node.position();
          return p.x >= ext.x1 && p.x <= ext.x2 && p.y >= ext.y1 && p.y <= ext.y2;
        });
        if (next.length > 1200) { next = cy.collection(); }
      }
      cy.batch(function () {
        labelled.difference(next).removeClass("lbl");
        next.difference(labelled).addClass("lbl");
      });
      labelled = next;
    };
    cy.on("viewport", function () { clearTimeout(relabelTimer); relabelTimer = setTimeout(relabel, 150); });
  }

  // ------------------------------------------------------------------------------------ ready
  cy.ready(function () {
    requestAnimationFrame(function () {
      requestAnimationFrame(function () {
        window.graphiffNodeCount = cy.nodes().length;
        window.graphiffEdgeCount = cy.edges().length;
        var now = performance.now();
        window.graphiffTimings = { start: t0, parse: tParsed - t0, init: tInit - tParsed, render: now - tInit, total: now };
        window.graphiffReady = true;
      });
    });
  });
  window.addEventListener("error", function (ev) { statusEl.textContent = "Error: " + (ev.message || "unknown"); });
})();
