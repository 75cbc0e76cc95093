"""A vendor's calculator, written from the contract alone: the "core" feature of wire contract 1.1.

One pretax_aftertax contract under Notice 2014-54: direct rollovers and at most one payment, elections of
pre-tax among direct rollovers, Form 1099-R boxes. It answers valid requests only (no error handling) and
carries ONE DELIBERATE BUG, the classic one: the pro rata after-tax share of §72(e)(8) is truncated to the
cent instead of rounded half up. `test_toy_calculator.py` finds it with rollsplit's fuzzing kit.
"""

from __future__ import annotations

NO_AFTERTAX = ("457b_gov",)  # plans that cannot take after-tax money


def _default_rank(row: dict) -> int:
    to = row["to"]
    if to in NO_AFTERTAX or (to in ("qualified_plan", "403b") and row.get("accepts_aftertax") is False):
        return 0
    return 2 if to == "roth_ira" else 1


def allocate(request: dict) -> dict:
    rows = request["disbursements"]
    D = sum(r["amount"] for r in rows)
    balance, basis = request["balance"], request["basis"]
    T = D * basis // balance            # BUG: §72(e)(8) share truncated; rollsplit rounds half up
    P = D - T

    directs = [r for r in rows if r["method"] == "direct"]
    direct_pretax_total = min(P, sum(r["amount"] for r in directs))
    elections = request.get("elections", {})
    pretax: dict[str, int] = {}
    if "direct_pretax_amounts" in elections:
        pretax = {r["id"]: elections["direct_pretax_amounts"].get(r["id"], 0) for r in directs}
    else:
        listed = elections.get("direct_pretax_order", [])
        order = [r for i in listed for r in directs if r["id"] == i]
        order += sorted((r for r in directs if r["id"] not in listed), key=_default_rank)  # stable: request order
        left = direct_pretax_total
        for r in order:
            pretax[r["id"]] = min(r["amount"], left)
            left -= pretax[r["id"]]

    out_rows, taxable_income, withholding_total = [], 0, 0
    for r in rows:
        if r["method"] == "direct":
            pre = pretax[r["id"]]
            taxable = pre if r["to"] == "roth_ira" else 0      # §408A(d)(3): a conversion is taxable
            withholding, box7 = 0, "G"
        else:
            pre = P - direct_pretax_total
            taxable = pre
            # §3405(c): 20%, rounded half up, once the year's eligible rollover distributions received reach
            # $200 (Reg. §31.3405(c)-1 Q&A-14): this payment and the year's others
            received = r["amount"] + request.get("other_eligible_this_year", 0)
            withholding = (2 * pre * 20 + 100) // 200 if received >= 20_000 else 0
            box7 = None
        after = r["amount"] - pre
        taxable_income += taxable
        withholding_total += withholding
        out_rows.append({"id": r["id"], "pretax": pre, "aftertax": after, "taxable": taxable,
                         "withholding": withholding,
                         "form_1099r": {"box1": r["amount"], "box2a": taxable if r["method"] == "direct" else pre,
                                        "box4": withholding, "box5": after, "box7": box7}})
    return {
        "regime": "notice_2014_54",
        "distribution": {"amount": D, "pretax": P, "aftertax": T, "basis_recovered": T},
        "disbursements": out_rows,
        "rollovers_60_day": [],
        "taxable_income": taxable_income,
        "withholding": withholding_total,
        "remaining": {"balance": balance - D, "basis": basis - T, "pre1987_basis": 0},
    }
