"""A static HTML report of one or more implementations: one self-contained file, nothing fetched at view time.

The page holds its data as JSON in a script element and draws two matrices from it: topics x implementations
(vectors passed of those run) and vectors x implementations (one cell per vector and implementation: passed,
failed, errored, skipped, not run). Filters by topic, feature and status (including "differs between
implementations") hide rows; a failing cell opens its details: the description, the request, the fields that
differ with dollars beside cents, the rules of the law the answer breaks with their citations, for an expected
error its reason and rule, and the adapter's stderr. A Content-Security-Policy forbids every fetch, so the page
works offline and cannot leak what it shows. Every text is set with textContent, never parsed as HTML.
"""

from __future__ import annotations

import html
import json
from typing import Any

from rollsplit.conformance.describe import money
from rollsplit.conformance.reports import Report

STATUS_ORDER = ("passed", "failed", "errored", "skipped", "not_run")


def _vector_info(ids: set[str]) -> dict[str, Any]:
    """Description, topic, features and citations of the bundled suite's vectors (for reports that lack them)."""
    try:
        from rollsplit.conformance import suite
        from rollsplit.conformance.describe import plain_description
        return {v.id: {"topic": v.topic, "features": list(v.features), "description": plain_description(v),
                       "citations": list(v.citations)}
                for v in suite.load() if v.id in ids}
    except Exception:   # the report is still drawn from what the JSON reports hold
        return {}


def _detail(row: dict, info: dict) -> dict:
    """What a failing cell opens: everything a person needs to see why it fails."""
    diffs = []
    for d in row.get("diffs") or []:
        e, g = d.get("expected"), d.get("got")
        diffs.append({"path": str(d.get("path", "")), "expected": _value(e), "got": _value(g)})
    request = row.get("request_text") if "request_text" in row else row.get("request")
    if request is not None and not isinstance(request, str):
        request = json.dumps(request, ensure_ascii=False, separators=(",", ":"))
    wanted = row.get("expected_error") if isinstance(row.get("expected_error"), dict) else None
    return {
        "reason": str(row.get("reason") or ""),
        "diffs": diffs,
        "broken": [{"id": str(b.get("id", "")), "statement": str(b.get("statement", "")),
                    "citation": str(b.get("citation", ""))} for b in row.get("broken_invariants") or []
                   if isinstance(b, dict)],
        "shape": [str(p) for p in row.get("shape_problems") or []],
        "request": request or "",
        "expected_error": None if wanted is None else {
            "code": str(wanted.get("code", "")), "meaning": str(wanted.get("meaning", "")),
            "reason": str(wanted.get("reason", "")),
            "citations": [_citation(c) for c in wanted.get("citations") or [] if isinstance(c, dict)]},
        "citations": [_citation(c) for c in (row.get("citations") or info.get("citations") or [])
                      if isinstance(c, dict)],
        "stderr": str(row.get("stderr_tail") or ""),
        "expected_failure": bool(row.get("expected_failure")),
    }


def _citation(c: dict) -> dict:
    return {"cite": f"{c.get('source', '')} {c.get('pinpoint', '')}".strip(), "quote": str(c.get("quote", ""))}


def _value(v: Any) -> str:
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v} ({money(v)})"
    text = json.dumps(v, ensure_ascii=False, separators=(",", ":"))
    return text if len(text) <= 400 else text[:397] + "..."


def page_data(reports: list[Report], title: str = "rollsplit conformance") -> dict:
    ids_in_order: list[str] = []
    seen: set[str] = set()
    for r in reports:
        for row in r.rows:
            if row["id"] not in seen:
                seen.add(row["id"])
                ids_in_order.append(row["id"])
    info = _vector_info(seen)
    vectors, details = [], []
    topics: dict[str, None] = {}
    features: dict[str, None] = {}
    for vid in ids_in_order:
        rows = [r.by_id.get(vid) for r in reports]
        first = next(row for row in rows if row is not None)
        meta = info.get(vid, {})
        topic = str(first.get("topic") or meta.get("topic") or "")
        feats = [str(f) for f in (first.get("features") or meta.get("features") or [])]
        topics.setdefault(topic, None)
        for f in feats:
            features.setdefault(f, None)
        cells = []
        for row in rows:
            if row is None:
                cells.append({"s": "absent"})
                continue
            cell: dict[str, Any] = {"s": row["status"]}
            if row.get("expected_failure"):
                cell["x"] = 1
            if row["status"] in ("failed", "errored"):
                cell["d"] = len(details)
                details.append(_detail(row, meta))
            elif row["status"] in ("skipped", "not_run") and row.get("reason"):
                cell["r"] = str(row["reason"])
            cells.append(cell)
        vectors.append({"id": vid, "topic": topic, "features": feats,
                        "description": str(first.get("description") or meta.get("description") or ""),
                        "cells": cells})
    impls = []
    for r in reports:
        meta = r.metadata
        adapter = meta.get("adapter") or {}
        suite_meta = meta.get("suite") or {}
        impls.append({
            "name": r.name(), "report": r.path, "line": r.line(), "level": r.level(), "scope": r.scope() or "",
            "ok": bool(r.summary and r.summary.get("ok")), "complete": r.summary is not None,
            "date": str(meta.get("date") or ""), "rollsplit": str(meta.get("rollsplit_version") or ""),
            "suite": f"{suite_meta.get('name', '')} {suite_meta.get('version', r.header.get('suite_version', ''))}"
                     .strip(),
            "manifest": str(suite_meta.get("manifest_sha256") or ""),
            "contract": str(meta.get("contract_version") or ""),
            "command": " ".join(adapter.get("command") or []) if isinstance(adapter.get("command"), list) else "",
            "protocol": str(adapter.get("protocol") or ""),
            "features": [str(f) for f in r.header.get("features") or []]})
    return {"title": title, "implementations": impls, "topics": list(topics), "features": sorted(features),
            "vectors": vectors, "details": details}


def _script_json(data: Any) -> str:
    """JSON safe inside a <script> element: no `<`, `>` or `&` that could end it or open a comment."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return (text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def render_html(reports: list[Report], title: str = "rollsplit conformance") -> str:
    data = page_data(reports, title)
    return (PAGE.replace("@@TITLE@@", html.escape(title))
            .replace("@@DATA@@", _script_json(data)))


PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>@@TITLE@@</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1em 2em; color: #1b1f23; }
h1 { font-size: 1.4em; margin: 0 0 .3em; }
h2 { font-size: 1.1em; margin: 1.2em 0 .4em; }
table { border-collapse: collapse; }
th, td { border: 1px solid #d0d7de; padding: 2px 6px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
.cell { text-align: center; min-width: 5.5em; font-weight: 600; }
.passed { background: #dafbe1; color: #116329; }
.failed { background: #ffebe9; color: #a40e26; cursor: pointer; }
.errored { background: #fff1c2; color: #7d4e00; cursor: pointer; }
.skipped, .not_run { background: #f6f8fa; color: #57606a; }
.absent { background: #fff; color: #8c959f; }
.xfail::after { content: " (known)"; font-weight: 400; }
.topicrow td { background: #eef2f6; font-weight: 600; cursor: pointer; }
.desc { max-width: 46em; font-size: 12px; color: #3d444d; }
#filters { display: flex; gap: 1.2em; flex-wrap: wrap; align-items: center; margin: .6em 0; }
#filters label { font-weight: 600; }
#impls td, #impls th { font-size: 13px; }
.mono { font-family: ui-monospace, monospace; font-size: 12px; word-break: break-all; }
#detail { position: fixed; top: 0; right: 0; width: min(52em, 60vw); height: 100vh; overflow: auto; background: #fff;
          border-left: 3px solid #a40e26; box-shadow: -4px 0 12px rgba(0,0,0,.15); padding: 1em 1.4em; box-sizing: border-box; }
#detail[hidden] { display: none; }
#detail pre { white-space: pre-wrap; word-break: break-word; background: #f6f8fa; padding: .5em; }
#close { float: right; }
#count { color: #57606a; }
</style>
</head>
<body>
<h1 id="title"></h1>
<p>Each cell is one vector of the conformance suite run by one implementation. A red (failed) or yellow (errored) cell
opens what is wrong: the fields that differ, the rules of the law the answer breaks, with their citations.</p>
<h2>Implementations</h2>
<table id="impls"><thead><tr><th>implementation</th><th>result</th><th>conformance level</th><th>run</th><th>suite and manifest SHA-256</th><th>adapter</th></tr></thead><tbody></tbody></table>
<h2>Topics</h2>
<table id="topics"><thead></thead><tbody></tbody></table>
<h2>Vectors</h2>
<div id="filters">
<span><label for="f-topic">topic</label> <select id="f-topic"><option value="">all topics</option></select></span>
<span><label for="f-feature">feature</label> <select id="f-feature"><option value="">all features</option></select></span>
<span><label for="f-status">status</label> <select id="f-status">
<option value="">any status</option>
<option value="bad">failed or errored in some implementation</option>
<option value="differs">differs between implementations</option>
<option value="passed">passed</option><option value="failed">failed</option><option value="errored">errored</option>
<option value="skipped">skipped</option><option value="not_run">not run</option>
</select></span>
<span id="count"></span>
</div>
<table id="matrix"><thead></thead><tbody></tbody></table>
<aside id="detail" hidden><button id="close" type="button">close</button><div id="detail-body"></div></aside>
<script id="data" type="application/json">@@DATA@@</script>
<script>
"use strict";
(function () {
  const DATA = JSON.parse(document.getElementById("data").textContent);
  const LABEL = {passed: "passed", failed: "failed", errored: "errored", skipped: "skipped", not_run: "not run",
                 absent: "not in report"};
  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const k in (attrs || {})) { e.setAttribute(k, attrs[k]); }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  document.getElementById("title").textContent = DATA.title;
  document.title = DATA.title;

  const impls = document.querySelector("#impls tbody");
  DATA.implementations.forEach(function (im) {
    const tr = el("tr");
    tr.appendChild(el("td", {}, im.name));
    tr.appendChild(el("td", {}, im.line + (im.complete ? "" : " (run cut short)")));
    tr.appendChild(el("td", {}, im.level ? im.level : ("none claimed" + (im.scope ? ": " + im.scope : ""))));
    tr.appendChild(el("td", {}, [im.date, im.rollsplit ? "rollsplit " + im.rollsplit : "",
                                 im.contract ? "contract " + im.contract : ""].filter(Boolean).join("; ")));
    tr.appendChild(el("td", {"class": "mono"}, im.suite + (im.manifest ? " " + im.manifest : "")));
    tr.appendChild(el("td", {"class": "mono"}, im.command + (im.protocol ? " (" + im.protocol + ")" : "") +
                                                (im.features.length ? "; features: " + im.features.join(", ") : "")));
    impls.appendChild(tr);
  });

  // topics x implementations
  const thead = document.querySelector("#topics thead");
  const head = el("tr");
  head.appendChild(el("th", {}, "topic"));
  DATA.implementations.forEach(function (im) { head.appendChild(el("th", {}, im.name)); });
  thead.appendChild(head);
  const tbody = document.querySelector("#topics tbody");
  DATA.topics.forEach(function (t) {
    const tr = el("tr", {"class": "topicrow", "data-topic": t});
    tr.appendChild(el("td", {}, t));
    DATA.implementations.forEach(function (im, i) {
      let passed = 0, ran = 0, bad = 0, total = 0;
      DATA.vectors.forEach(function (v) {
        if (v.topic !== t) { return; }
        const s = v.cells[i].s;
        if (s === "absent") { return; }
        total += 1;
        if (s === "passed") { passed += 1; ran += 1; }
        if (s === "failed" || s === "errored") { bad += 1; ran += 1; }
      });
      const cls = bad ? "failed" : (ran ? "passed" : "skipped");
      tr.appendChild(el("td", {"class": "cell " + cls}, passed + "/" + ran + (total > ran ? " (" + (total - ran) + " not run)" : "")));
    });
    tr.addEventListener("click", function () { select("f-topic", t); });
    tbody.appendChild(tr);
  });

  // filters
  function fill(id, values) {
    const s = document.getElementById(id);
    values.forEach(function (v) { s.appendChild(el("option", {"value": v}, v)); });
  }
  fill("f-topic", DATA.topics);
  fill("f-feature", DATA.features);

  // vectors x implementations
  const mhead = el("tr");
  ["vector", "description"].forEach(function (h) { mhead.appendChild(el("th", {}, h)); });
  DATA.implementations.forEach(function (im) { mhead.appendChild(el("th", {}, im.name)); });
  document.querySelector("#matrix thead").appendChild(mhead);
  const mbody = document.querySelector("#matrix tbody");
  const rows = [];
  DATA.vectors.forEach(function (v) {
    const tr = el("tr", {"data-id": v.id, "data-topic": v.topic});
    tr.appendChild(el("td", {"class": "mono"}, v.id));
    tr.appendChild(el("td", {"class": "desc"}, v.description));
    v.cells.forEach(function (c, i) {
      const td = el("td", {"class": "cell " + c.s + (c.x ? " xfail" : ""), "data-status": c.s,
                          "data-impl": String(i)}, LABEL[c.s] || c.s);
      if (c.r) { td.title = c.r; }
      if (c.d !== undefined) {
        td.setAttribute("tabindex", "0");
        td.setAttribute("role", "button");
        td.addEventListener("click", function () { open(v, i, c); });
        td.addEventListener("keydown", function (e) { if (e.key === "Enter") { open(v, i, c); } });
      }
      tr.appendChild(td);
    });
    mbody.appendChild(tr);
    rows.push({tr: tr, v: v});
  });

  function matches(v, topic, feature, status) {
    if (topic && v.topic !== topic) { return false; }
    if (feature && v.features.indexOf(feature) < 0) { return false; }
    const ss = v.cells.map(function (c) { return c.s; });
    if (status === "bad") { return ss.some(function (s) { return s === "failed" || s === "errored"; }); }
    if (status === "differs") { return ss.some(function (s) { return s !== ss[0]; }); }
    if (status) { return ss.indexOf(status) >= 0; }
    return true;
  }
  function apply() {
    const topic = document.getElementById("f-topic").value;
    const feature = document.getElementById("f-feature").value;
    const status = document.getElementById("f-status").value;
    let shown = 0;
    rows.forEach(function (r) {
      const ok = matches(r.v, topic, feature, status);
      r.tr.hidden = !ok;
      if (ok) { shown += 1; }
    });
    document.getElementById("count").textContent = shown + " of " + rows.length + " vectors shown";
  }
  function select(id, value) {
    document.getElementById(id).value = value;
    apply();
    document.getElementById("matrix").scrollIntoView();
  }
  ["f-topic", "f-feature", "f-status"].forEach(function (id) {
    document.getElementById(id).addEventListener("change", apply);
  });

  // the details of a failing cell
  const panel = document.getElementById("detail");
  const body = document.getElementById("detail-body");
  function section(title) { body.appendChild(el("h3", {}, title)); }
  function open(v, i, c) {
    const d = DATA.details[c.d];
    body.textContent = "";
    body.appendChild(el("h2", {"id": "detail-title"}, v.id + ": " + LABEL[c.s] + " by " + DATA.implementations[i].name +
                                 (d.expected_failure ? " (a known failure)" : "")));
    body.appendChild(el("p", {}, v.description));
    if (d.request) { section("request"); body.appendChild(el("pre", {"class": "mono", "id": "detail-request"}, d.request)); }
    if (d.diffs.length) {
      section("fields that differ");
      const t = el("table", {"id": "detail-diffs"});
      const h = el("tr");
      ["field", "expected", "got"].forEach(function (x) { h.appendChild(el("th", {}, x)); });
      t.appendChild(h);
      d.diffs.forEach(function (x) {
        const tr = el("tr");
        tr.appendChild(el("td", {"class": "mono"}, x.path));
        tr.appendChild(el("td", {"class": "mono"}, x.expected));
        tr.appendChild(el("td", {"class": "mono"}, x.got));
        t.appendChild(tr);
      });
      body.appendChild(t);
    }
    if (d.shape.length) { section("shape"); body.appendChild(el("pre", {}, d.shape.join("\\n"))); }
    if (d.broken.length) {
      section("rules of the law the answer breaks");
      const ul = el("ul", {"id": "detail-broken"});
      d.broken.forEach(function (b) { ul.appendChild(el("li", {}, b.id + ": " + b.statement + " [" + b.citation + "]")); });
      body.appendChild(ul);
    }
    if (d.expected_error) {
      const e = d.expected_error;
      section("the expected error");
      body.appendChild(el("p", {}, e.code + ": " + e.meaning));
      if (e.reason) { body.appendChild(el("p", {}, "Why the request is rejected: " + e.reason)); }
      const ul = el("ul");
      e.citations.forEach(function (x) { ul.appendChild(el("li", {}, x.cite + ": \\u201c" + x.quote + "\\u201d")); });
      body.appendChild(ul);
    }
    if (!d.diffs.length && d.reason) { section("what is wrong"); body.appendChild(el("pre", {}, d.reason)); }
    if (d.stderr) { section("adapter stderr (end)"); body.appendChild(el("pre", {}, d.stderr)); }
    if (d.citations.length) {
      section("citations of the vector");
      const ul = el("ul", {"id": "detail-citations"});
      d.citations.forEach(function (x) { ul.appendChild(el("li", {}, x.cite + ": \\u201c" + x.quote + "\\u201d")); });
      body.appendChild(ul);
    }
    panel.hidden = false;
    document.getElementById("close").focus();
  }
  document.getElementById("close").addEventListener("click", function () { panel.hidden = true; });
  document.addEventListener("keydown", function (e) { if (e.key === "Escape") { panel.hidden = true; } });
  apply();
})();
</script>
</body>
</html>
"""
