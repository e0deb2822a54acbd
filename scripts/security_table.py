# SPDX-License-Identifier: ISC
"""security_table: the results of scripts/security_compare.sh as one
Markdown table, a row per case of tests/integ/smuggle_cases.txt.

    python3 security_table.py TITLE=RESULTS.jsonl ...

Each RESULTS.jsonl is smuggle_drive.py's json output for one proxy (or one
port of meshctl's).  A cell is what the caller got back (status codes in
order, CODExN for a run, "close" when the proxy closed) and, when the
proxy let the case through, what the recording app's log says it got:
the targets of the requests that reached it, tunnel or junk bytes, and
whether the caller saw a response the app meant never to deliver.  "Let
through" is measured against the case's app column, which is what
meshctl's sidecars allow (none, or exactly the one good request); a proxy
stricter than that lets nothing through.  A cell in bold: bytes went past
the proxy's own framing (tunnel or junk bytes at the app, more requests
at the app than final responses at the caller, or the marked response at
the caller); the others were read by the proxy as requests and forwarded,
which is lenient but not a desync by itself.
"""

import json
import sys


def allowed_heads(app):
    if app == "none":
        return []
    return app.partition(":")[2].split(",")


def path_of(target):
    """An absolute-form target as its path: a proxy may forward either."""
    if target.startswith("http://"):
        i = target.find("/", len("http://"))
        return target[i:] if i >= 0 else "/"
    return target


def short(target):
    return target if len(target) <= 40 else target[:37] + "..."


def let_through(r):
    """(let through?, beyond?, what the app got).  Let through: the app
    got a byte more than the case allows (a proxy stricter than meshctl
    lets nothing through).  Beyond: bytes that went past the proxy's own
    framing: tunnel or junk bytes at the app, more requests at the app
    than final responses at the caller (one the proxy never saw), or the
    marked response at the caller.  A proxy that reads the bytes as two
    requests and answers both is lenient, not desynced."""
    a = r["app_got"]
    allowed = allowed_heads(r["app"])
    heads = [path_of(h) for h in a["heads"]]
    exact = (heads == allowed and not a["junk"] and not a["tunnel"] and
             (r["app"].startswith("head:") or a["bytes"] == a["done_bytes"]))
    if r["smuggled_response"]:
        pass
    elif exact or a["bytes"] == 0:
        return False, False, ""
    beyond = bool(r["smuggled_response"] or a["junk"] or a["tunnel"] or
                  len(a["heads"]) > r["finals"])
    what = ", ".join(short(h) for h in a["heads"]) or "%d bytes" % a["bytes"]
    if a["tunnel"]:
        what += " + %d tunnel bytes" % a["tunnel"]
    if a["junk"]:
        what += " + %d junk bytes" % a["junk"]
    if r["smuggled_response"]:
        what += "; caller got SMUGGLED"
    return True, beyond, what


def main():
    cols = []
    for arg in sys.argv[1:]:
        title, _, path = arg.partition("=")
        rows = {}
        with open(path) as f:
            for line in f:
                if line.strip():
                    r = json.loads(line)
                    rows[r["case"]] = r
        cols.append((title, rows))
    names = list(cols[0][1].keys())
    print("| case | app may get | " + " | ".join(t for t, _ in cols) + " |")
    print("|---|---|" + "---|" * len(cols))
    through = {t: [] for t, _ in cols}
    beyond = {t: [] for t, _ in cols}
    for n in names:
        cells = []
        for t, rows in cols:
            r = rows.get(n)
            if r is None:
                cells.append("(not run)")
                continue
            lt, bey, what = let_through(r)
            cell = r["answer"]
            if lt:
                through[t].append(n)
                cell += " → app: %s" % what
                if bey:
                    beyond[t].append(n)
                    cell = "**%s**" % cell
            cells.append(cell)
        print("| %s | %s | %s |" % (n, cols[0][1][n]["app"], " | ".join(cells)))
    print()
    total = len(names)
    nres = sum(1 for n in names if n.startswith("res_"))
    print("%d cases (%d request side, %d response side)." % (total, total - nres, nres))
    print()
    for t, _ in cols:
        print("- %s: %d let through; in %d of them bytes went past the proxy's own framing "
              "(tunnel or junk bytes at the app, a request it never answered, or SMUGGLED "
              "at the caller)%s" % (
                  t, len(through[t]), len(beyond[t]),
                  (": " + ", ".join(beyond[t])) if beyond[t] else ""))


if __name__ == "__main__":
    main()
