#!/usr/bin/env node
// An independent calculator for the CORE features of wire contract 1.1, in JavaScript with BigInt,
// speaking the persistent protocol (default) or the one-shot protocol (--oneshot).
//
// Core: a pre-tax/after-tax contract under Notice 2014-54, direct rollovers and one payment, elections
// among direct rollovers, hardship, withholding (with the $200 floor of the year), Form 1099-R, and the
// contract 1.1 checks of rows of $0 and of the law's dates. It declares only ["core", "form_1099r"],
// so the runner skips vectors needing 60-day rollovers, RMDs, pre-1987 basis, designated Roth or the
// 2009 regime. Money is BigInt throughout: amount * basis can reach 2^106, far beyond a double (2^53)
// and beyond 64-bit integers, and JSON.parse would round big integers, so this file has its own strict
// JSON reader (which also rejects duplicate keys, as the contract requires).
//
//   rollsplit conformance run -- node conformance/examples/adapter.js
"use strict";

const MAX = 9007199254740991n;
const FEATURES = ["core", "form_1099r"];

// ---- strict JSON: integers become BigInt; duplicate keys, NaN and trailing text are errors ----
class JsonError extends Error {}
function parseJson(text) {
  let i = 0;
  const ws = () => { while (i < text.length && " \t\n\r".includes(text[i])) i++; };
  const fail = (what) => { throw new JsonError(`${what} at character ${i}`); };
  function value() {
    ws();
    const c = text[i];
    if (c === "{") {
      i++; const obj = {}; ws();
      if (text[i] === "}") { i++; return obj; }
      for (;;) {
        ws(); if (text[i] !== '"') fail("expected a key");
        const k = string();
        if (Object.prototype.hasOwnProperty.call(obj, k)) fail(`duplicate key "${k}"`);
        ws(); if (text[i++] !== ":") fail("expected ':'");
        obj[k] = value(); ws();
        if (text[i] === ",") { i++; continue; }
        if (text[i] === "}") { i++; return obj; }
        fail("expected ',' or '}'");
      }
    }
    if (c === "[") {
      i++; const arr = []; ws();
      if (text[i] === "]") { i++; return arr; }
      for (;;) {
        arr.push(value()); ws();
        if (text[i] === ",") { i++; continue; }
        if (text[i] === "]") { i++; return arr; }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') return string();
    for (const [word, v] of [["true", true], ["false", false], ["null", null]]) {
      if (text.startsWith(word, i)) { i += word.length; return v; }
    }
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m) fail("unexpected character");
    i += m[0].length;
    return (m[2] || m[3]) ? Number(m[0]) : BigInt(m[0]);
  }
  function string() {
    const m = /^"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/.exec(text.slice(i));
    if (!m) fail("bad string");
    i += m[0].length;
    return JSON.parse(m[0]);
  }
  const v = value(); ws();
  if (i !== text.length) fail("trailing text");
  return v;
}

function toJson(v) {
  if (typeof v === "bigint") return v.toString();
  if (Array.isArray(v)) return "[" + v.map(toJson).join(",") + "]";
  if (v !== null && typeof v === "object") {
    return "{" + Object.entries(v).map(([k, x]) => JSON.stringify(k) + ":" + toJson(x)).join(",") + "}";
  }
  return JSON.stringify(v);
}

// ---- the contract ----
class Rejected extends Error {
  constructor(code, message, field = null) { super(message); this.code = code; this.field = field; }
}
const bad = (field, message) => new Rejected("invalid_request", message, field);
const isObj = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
const roundHalfUp = (x, y, z) => (z > 0n ? (2n * x * y + z) / (2n * z) : 0n);  // BigInt division floors for >= 0
const min = (a, b) => (a < b ? a : b);
const max = (a, b) => (a > b ? a : b);

function fields(obj, path, allowed, required, what) {
  if (!isObj(obj)) throw bad(path || null, `The ${what} must be a JSON object.`);
  for (const k of Object.keys(obj)) if (!allowed.includes(k)) throw bad(path ? `${path}.${k}` : k, `Unknown field ${k}.`);
  for (const k of required) if (!(k in obj)) throw bad(path ? `${path}.${k}` : k, `The ${what} is missing ${k}.`);
}
function money(v, path, all) {
  if (typeof v !== "bigint") throw bad(path, `${path} must be an integer number of cents.`);
  all.push([path, v]);
  return v;
}
function oneOf(v, path, options) {
  if (!options.includes(v)) throw bad(path, `${path} must be one of ${options.join(", ")}.`);
  return v;
}
function ident(v, path) {
  if (typeof v !== "string" || v === "") throw bad(path, `${path} must be a non-empty string.`);
  return v;
}

const TOP = ["date", "plan", "contract", "balance", "basis", "disbursements", "pre1987_basis", "qualified_roth", "rmd",
  "hardship", "regime", "rollovers_60_day", "elections", "other_eligible_this_year"];
const DEST = ["traditional_ira", "roth_ira", "qualified_plan", "403b", "457b_gov", "designated_roth"];

function parseRequest(r) {
  const all = [];
  fields(r, "", TOP, ["date", "plan", "contract", "balance", "basis", "disbursements"], "request");
  const d = typeof r.date === "string" && /^\d{4}-\d{2}-\d{2}$/.test(r.date) ? r.date.split("-").map(Number) : null;
  const day = d && new Date(Date.UTC(d[0], d[1] - 1, d[2]));
  if (!d || day.getUTCFullYear() !== d[0] || day.getUTCMonth() !== d[1] - 1 || day.getUTCDate() !== d[2]) {
    throw bad("date", "date must be a calendar day written YYYY-MM-DD.");
  }
  oneOf(r.plan, "plan", ["401a", "403b", "457b_gov"]);
  const contract = oneOf(r.contract, "contract", ["pretax_aftertax", "designated_roth"]);
  const req = { contract, balance: money(r.balance, "balance", all), basis: money(r.basis, "basis", all) };
  req.pre1987 = money(r.pre1987_basis ?? 0n, "pre1987_basis", all);
  for (const k of ["qualified_roth", "hardship"]) {
    if (k in r && typeof r[k] !== "boolean") throw bad(k, `${k} must be true or false.`);
  }
  req.rmd = money(r.rmd ?? 0n, "rmd", all);
  req.hardship = r.hardship === true;
  req.other = money(r.other_eligible_this_year ?? 0n, "other_eligible_this_year", all);
  if ("regime" in r) oneOf(r.regime, "regime", ["notice_2014_54", "notice_2009_68"]);
  if (r.qualified_roth === true && contract !== "designated_roth") throw bad("qualified_roth", "qualified_roth needs a designated Roth contract.");
  if (!Array.isArray(r.disbursements)) throw bad("disbursements", "disbursements must be an array.");
  req.rows = r.disbursements.map((x, i) => {
    const p = `disbursements[${i}]`;
    if (!isObj(x)) throw bad(p, `${p} must be an object.`);
    if (!("method" in x)) throw bad(`${p}.method`, `${p} is missing method.`);
    const method = oneOf(x.method, `${p}.method`, ["direct", "paid"]);
    const direct = method === "direct";
    fields(x, p, direct ? ["id", "method", "amount", "to", "accepts_aftertax"] : ["id", "method", "amount"],
      direct ? ["id", "method", "amount", "to"] : ["id", "method", "amount"], p);
    if ("accepts_aftertax" in x && typeof x.accepts_aftertax !== "boolean") throw bad(`${p}.accepts_aftertax`, "accepts_aftertax must be true or false.");
    return { id: ident(x.id, `${p}.id`), method, amount: money(x.amount, `${p}.amount`, all),
      to: direct ? oneOf(x.to, `${p}.to`, DEST) : null, accepts: x.accepts_aftertax !== false };
  });
  if ((r.rollovers_60_day ?? []).length || r.regime === "notice_2009_68" || req.rmd || req.pre1987 || contract !== "pretax_aftertax") {
    throw new Rejected("invalid_request", "This calculator implements only the core features of the contract.");
  }
  const e = r.elections ?? {};
  fields(e, "elections", ["direct_pretax_order", "direct_pretax_amounts"], [], "elections object");
  if ("direct_pretax_order" in e) {
    if (!Array.isArray(e.direct_pretax_order)) throw bad("elections.direct_pretax_order", "An order must be an array of ids.");
    e.direct_pretax_order.forEach((x, i) => ident(x, `elections.direct_pretax_order[${i}]`));
  }
  if ("direct_pretax_amounts" in e) {
    if (!isObj(e.direct_pretax_amounts)) throw bad("elections.direct_pretax_amounts", "Amounts must map ids to cents.");
    for (const [k, v] of Object.entries(e.direct_pretax_amounts)) money(v, `elections.direct_pretax_amounts.${k}`, all);
  }
  for (const [path, v] of all) {
    if (v < 0n || v > MAX) throw new Rejected("amount_out_of_range", `${path} must be between 0 and ${MAX} cents.`, path);
  }
  req.rows.forEach((x, i) => {   // contract 1.1: a $0 row is no distribution
    if (x.amount === 0n) throw new Rejected("zero_amount", "A row of 0 cents is no distribution.", `disbursements[${i}].amount`);
  });
  const seen = new Set();
  req.rows.forEach((x, i) => {
    if (seen.has(x.id)) throw new Rejected("duplicate_id", `The id ${x.id} is used twice.`, `disbursements[${i}].id`);
    seen.add(x.id);
  });
  if (req.rows.filter((x) => x.method === "paid").length > 1) throw new Rejected("more_than_one_payment", "Only one disbursement may be paid to the participant.");
  if (req.hardship && req.rows.some((x) => x.method === "direct")) {
    throw new Rejected("not_eligible_rollover_distribution", "A hardship distribution cannot be rolled over.");
  }
  // contract 1.1: when each route of the law began (EGTRRA 2001, PPA 2006 §§822 and 824)
  if (r.date < "2002-01-01") throw new Rejected("before_effective_date", "Distributions before 2002 are not modelled.", "date");
  req.rows.forEach((x, i) => {
    if (x.method !== "direct") return;
    if (x.to === "roth_ira" && r.date < "2008-01-01") {
      throw new Rejected("before_effective_date", "No plan-to-Roth-IRA rollovers before 2008.", `disbursements[${i}].to`);
    }
    if (x.to === "403b" && x.accepts && r.date < "2007-01-01") {
      throw new Rejected("before_effective_date", "No after-tax money into a 403(b) before 2007.", `disbursements[${i}].accepts_aftertax`);
    }
  });
  const order = e.direct_pretax_order, amounts = e.direct_pretax_amounts;
  if (order && amounts) throw new Rejected("invalid_election", "Give an order or amounts, not both.", "elections");
  const directIds = req.rows.filter((x) => x.method === "direct").map((x) => x.id);
  const listed = order ?? Object.keys(amounts ?? {});
  listed.forEach((x, i) => {
    if (!directIds.includes(x) || listed.indexOf(x) !== i) throw new Rejected("invalid_election", `The election names ${x} wrongly.`, "elections");
  });
  req.order = order ?? null;
  req.amounts = amounts ?? null;
  return req;
}

function rank(x) {   // default fill order of pre-tax among direct rollovers (rule 4)
  if (x.to === "457b_gov" || ((x.to === "qualified_plan" || x.to === "403b") && !x.accepts)) return 0;
  if (x.to === "roth_ira") return 2;
  return x.to === "designated_roth" ? 3 : 1;
}

function allocate(req) {
  const D = req.rows.reduce((s, x) => s + x.amount, 0n);
  if (req.basis > req.balance) throw new Rejected("basis_exceeds_balance", "The basis is larger than the balance.", "basis");
  if (D === 0n) throw new Rejected("empty_distribution", "There is nothing to distribute.", "disbursements");
  if (D > req.balance) throw new Rejected("distribution_exceeds_balance", "The disbursements exceed the balance.", "disbursements");
  const T = roundHalfUp(D, req.basis, req.balance);   // §72(e)(8): D * basis / balance, half up
  const P = D - T;
  const directs = req.rows.filter((x) => x.method === "direct");
  const directTotal = min(P, directs.reduce((s, x) => s + x.amount, 0n));
  const pretax = new Map();
  if (req.amounts) {
    let sum = 0n;
    for (const x of directs) {
      const v = req.amounts[x.id] ?? 0n;
      if (v > x.amount) throw new Rejected("invalid_election", `The election puts more into ${x.id} than it holds.`, "elections");
      pretax.set(x, v); sum += v;
    }
    if (sum !== directTotal) throw new Rejected("invalid_election", `The elected amounts must add up to ${directTotal}.`, "elections");
  } else {
    const listed = req.order ?? [];
    const fillOrder = [...directs.filter((x) => listed.includes(x.id)).sort((a, b) => listed.indexOf(a.id) - listed.indexOf(b.id)),
      ...directs.filter((x) => !listed.includes(x.id)).map((x, i) => [x, i]).sort((a, b) => rank(a[0]) - rank(b[0]) || a[1] - b[1]).map((p) => p[0])];
    let left = directTotal;
    for (const x of fillOrder) { const v = min(x.amount, max(0n, left)); pretax.set(x, v); left -= v; }
  }
  const paid = req.rows.find((x) => x.method === "paid");
  if (paid) pretax.set(paid, P - directTotal);
  for (const x of directs) {
    const after = x.amount - pretax.get(x);
    const noAfter = x.to === "457b_gov" || ((x.to === "qualified_plan" || x.to === "403b") && !x.accepts);
    if (x.to === "designated_roth" || (noAfter && after > 0n)) {
      throw new Rejected("ineligible_destination", `${x.id} cannot take this money.`, "disbursements");
    }
  }
  // §3405(c), and no withholding while the year's eligible rollover distributions received stay under $200
  // (Reg. §31.3405(c)-1 Q&A-14): this payment plus the other ones of the year
  const underFloor = paid && paid.amount + req.other < 20000n;
  const withholding = paid && !req.hardship && !underFloor ? roundHalfUp(pretax.get(paid), 20n, 100n) : 0n;
  const rows = req.rows.map((x) => {
    const pre = pretax.get(x), after = x.amount - pre;
    const taxable = x.method === "paid" || x.to === "roth_ira" ? pre : 0n;
    const w = x.method === "paid" ? withholding : 0n;
    return { id: x.id, pretax: pre, aftertax: after, taxable, withholding: w,
      form_1099r: { box1: x.amount, box2a: taxable, box4: w, box5: after, box7: x.method === "paid" ? null : "G" } };
  });
  return { regime: "notice_2014_54", distribution: { amount: D, pretax: P, aftertax: T, basis_recovered: T },
    disbursements: rows, rollovers_60_day: [], taxable_income: rows.reduce((s, x) => s + x.taxable, 0n),
    withholding, remaining: { balance: req.balance - D, basis: req.basis - T, pre1987_basis: 0n } };
}

function calculate(request) {
  try {
    return allocate(parseRequest(request));
  } catch (e) {
    if (e instanceof Rejected) return { error: { code: e.code, message: e.message, field: e.field } };
    throw e;
  }
}

// ---- the two protocols ----
function invalidJson(e) { return { error: { code: "invalid_json", message: `The input is not valid JSON: ${e.message}.`, field: null } }; }

if (process.argv.includes("--oneshot")) {
  const chunks = [];
  process.stdin.on("data", (c) => chunks.push(c));
  process.stdin.on("end", () => {
    let answer;
    try { answer = calculate(parseJson(Buffer.concat(chunks).toString("utf8"))); } catch (e) {
      if (!(e instanceof JsonError)) throw e;
      answer = invalidJson(e);
    }
    process.stdout.write(toJson(answer) + "\n");
  });
} else {
  const rl = require("readline").createInterface({ input: process.stdin, crlfDelay: Infinity });
  rl.on("line", (line) => {
    let msg;
    try { msg = parseJson(line); } catch (e) {
      if (!(e instanceof JsonError)) throw e;
      process.stdout.write(toJson({ seq: null, ...invalidJson(e) }) + "\n");
      return;
    }
    if (msg.cmd === "stop") { rl.close(); return; }
    let reply;
    if (msg.cmd === "start") {
      reply = { protocol: 1, implementation: { name: "rollsplit-example-js", version: "1.0.0", language: "javascript" }, features: FEATURES };
    } else {
      const answer = calculate(msg.request);
      reply = "error" in answer ? { seq: msg.seq, ...answer } : { seq: msg.seq, result: answer };
    }
    process.stdout.write(toJson(reply) + "\n");
  });
}
