# SPDX-License-Identifier: ISC
"""smuggle_lib: the case table of tests/integ/smuggle_cases.txt (its
header says the format), and a lenient reader of the responses a caller
gets back.  Shared by smuggle_app.py (the recording app) and
smuggle_drive.py (the caller); not a test itself."""

import codecs
import re

REPEAT = re.compile(r"@\{(\d+)\*([^}]*)\}")
NAME = re.compile(r"[a-z0-9_]+\Z")
WAIT, SLEEP, EARLY, CLOSE = b"<<WAIT>>", b"<<SLEEP>>", b"<<EARLY>>", b"<<CLOSE>>"
MARK = b"SMUGGLED"


class CaseError(Exception):
    pass


def unescape(text):
    """Column text -> bytes: @{N*TEXT} first, then Python escapes."""
    text = REPEAT.sub(lambda m: m.group(2) * int(m.group(1)), text)
    return codecs.escape_decode(text.encode("latin-1"))[0]


class Case:
    def __init__(self, name, expect, app, request, response, line):
        self.name, self.line = name, line
        self.expect_text = expect
        self.app = app
        self.response = response          # bytes or None
        self.request = request            # bytes, markers included

    @property
    def side(self):
        return "res" if self.response is not None else "req"

    def expect(self, port):
        """The expected answer on this port ("out" or "in"), as
        (list of status codes, must_close)."""
        text = self.expect_text
        if "|" in text:
            alt = dict(p.split("=", 1) for p in text.split("|"))
            text = alt[port]
        codes, close = [], False
        for tok in text.split():
            if tok == "close":
                close = True
            elif "x" in tok:
                code, n = tok.split("x")
                codes += [int(code)] * int(n)
            else:
                codes.append(int(tok))
        return codes, close

    def segments(self):
        """The request as a list of (bytes, action after it): action is
        "wait" (one more response), "sleep" (0.3 s) or None."""
        out, cur = [], self.request
        while True:
            i, j = cur.find(WAIT), cur.find(SLEEP)
            cut = min(x for x in (i, j, len(cur)) if x >= 0)
            if cut == len(cur):
                out.append((cur, None))
                return out
            act = "wait" if cut == i else "sleep"
            out.append((cur[:cut], act))
            cur = cur[cut + len(WAIT if act == "wait" else SLEEP):]

    def first_method(self):
        """HEAD or CONNECT when the request starts with one: their first
        response has no body (and a 2xx to CONNECT starts a tunnel)."""
        for m in (b"HEAD", b"CONNECT"):
            if self.request.startswith(m + b" "):
                return m.decode()
        return None


def load(path):
    cases, seen = [], set()
    with open(path, encoding="latin-1") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            cols = line.split("\t")
            if len(cols) not in (4, 5):
                raise CaseError("%s:%d: %d columns, want 4 or 5" % (path, n, len(cols)))
            name, expect, app, req = cols[:4]
            if not NAME.match(name) or name in seen:
                raise CaseError("%s:%d: bad or duplicate name %r" % (path, n, name))
            if (len(cols) == 5) != name.startswith("res_"):
                raise CaseError("%s:%d: res_ names and a response column go together" % (path, n))
            if not re.match(r"(none|one:\S+|head:\S+|paths:\S+)\Z", app):
                raise CaseError("%s:%d: bad app column %r" % (path, n, app))
            seen.add(name)
            if req == "-":
                req = "GET /evil/%s HTTP/1.1\\r\\nHost: api\\r\\n\\r\\n" % name
            res = unescape(cols[4]) if len(cols) == 5 else None
            c = Case(name, expect, app, unescape(req), res, n)
            try:
                c.expect("out"), c.expect("in")
            except (ValueError, KeyError):
                raise CaseError("%s:%d: bad expect column %r" % (path, n, expect))
            cases.append(c)
    return cases


def read_responses(data, first_method=None):
    """Split what a caller received into responses.  Returns (codes,
    rest): the status code of every complete response in order (1xx
    included), and the bytes after the last complete one.  A 101, or a
    2xx to a CONNECT, ends the HTTP part (what follows is the tunnel).
    Lenient on purpose: it reads whatever a proxy sends, to report it."""
    codes, pos, first = [], 0, True
    head_first = first_method == "HEAD"
    while pos < len(data):
        end = data.find(b"\r\n\r\n", pos)
        if end < 0:
            break
        head = data[pos:end].split(b"\r\n")
        m = re.match(rb"HTTP/\d\.\d (\d{3})", head[0])
        if not m:
            break
        code = int(m.group(1))
        body_at = end + 4
        fields = {}
        for h in head[1:]:
            k, _, v = h.partition(b":")
            fields.setdefault(k.strip().lower(), v.strip())
        if first and first_method == "CONNECT" and 200 <= code < 300:
            codes.append(code)
            return codes, data[body_at:]
        if code < 200 or code in (204, 304) or (first and head_first and code >= 200):
            if code == 101:
                codes.append(code)
                return codes, data[body_at:]
            codes.append(code)
            pos = body_at
            if code >= 200:
                first = False
            continue
        if b"chunked" in fields.get(b"transfer-encoding", b"").lower():
            p = body_at
            while True:
                e = data.find(b"\r\n", p)
                if e < 0:
                    return codes, data[pos:]
                try:
                    size = int(data[p:e].split(b";")[0].strip() or b"x", 16)
                except ValueError:
                    return codes, data[pos:]
                if size == 0:
                    t = data.find(b"\r\n\r\n", e)
                    if t < 0:
                        return codes, data[pos:]
                    p = t + 4
                    break
                p = e + 2 + size + 2
                if p > len(data):
                    return codes, data[pos:]
            codes.append(code)
            pos = p
        elif b"content-length" in fields:
            try:
                n = int(fields[b"content-length"])
            except ValueError:
                break
            if body_at + n > len(data):
                break
            codes.append(code)
            pos = body_at + n
        else:
            # until the close: the caller decides whether it came
            codes.append(-code)
            return codes, b""
        first = False
    return codes, data[pos:]
