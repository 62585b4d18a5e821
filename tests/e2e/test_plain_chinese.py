"""Nothing a Chinese reader sees is in English or in code: every page each role can reach from its own pages, the
PDFs they can download and the requests export, read from the running demo in zh-CN.

A page is read as a person reads it: its text and the texts a screen reader says (title, aria-label, placeholder,
alt, a button's value) — not scripts, styles or attribute values nobody sees. What a person is meant to read as
it is may stand in Latin letters: the allow-list below; text marked as another language (``lang="en"``); numbers
printed on things — model, part, serial and request numbers, which hold a digit (``AG-3050``,
``FD-20261202-000001``), and hexadecimal fingerprints; anything an element marks ``translate="no"`` or shows as
``<code>`` (a key, a column to type, a username). A code made of letters only (``WH-NATIONAL``, ``BAT-AA``) stands
for a name and fails, as does any other Latin word, ``snake_case`` or ``dotted.code``.
"""

from __future__ import annotations

import io
import re
import time
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from tests.e2e.conftest import DEMO_AT

#: Latin words a Chinese reader is meant to read as they are.
ALLOWED = {
    "fairdesk",              # the product's name
    "PDF", "CSV", "Excel", "JSON", "MB", "KB", "km",  # formats and units
    "Ed25519", "SHA", "HMAC",  # the names of the evidence log's algorithms, printed for verifiers
    "WeChat", "VIP",         # a channel's own name; a loanword Chinese readers use as it is
}
#: A number printed on a thing (model, part, serial, request, complaint) holds a digit; a fingerprint is hexadecimal.
CODE = re.compile(r"^(?=[A-Z0-9-]*\d)[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*$|^[0-9a-f]{16,}$")
WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_.][A-Za-z0-9]+)*")
SKIP = re.compile(r"https?://\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+")  # addresses and e-mail addresses
SPOKEN_ATTRS = ("title", "aria-label", "placeholder", "alt")
ROLES = {"customer": "demo-customer", "agent": "demo-agent", "dispatcher": "demo-dispatcher",
         "technician": "demo-technician", "manager": "demo-manager", "auditor": "demo-auditor"}
START = {"public": ["/login", "/check?value=400-888-6666", "/transparency/angu", "/brands/angu/credit",
                    "/credit/method"],
         "customer": ["/my", "/my/plans", "/my/complaints", "/my/chat", "/my/repair"],
         "agent": ["/tickets", "/console?phone=13800138000", "/complaints", "/inbox"],
         "dispatcher": [f"/dispatch?day={DEMO_AT[:10]}", "/runs", "/tickets"],
         "technician": [f"/my-day?day={DEMO_AT[:10]}"],
         "manager": ["/dashboard", "/runs", "/calendar", "/tickets", "/complaints"],
         "auditor": ["/dashboard", "/tickets"]}
NEVER = re.compile(r"^/(logout|lang/|static/)|/attachments/|/s/|\.json$|/evidence\.json")
PER_SHAPE = 2     # pages of one shape (/tickets/<n>) read per role
MAX_PAGES = 80    # per role


class _Reader(HTMLParser):
    """The text a person reads on a page, without what is marked as not language."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str] = []
        self._stack: list[tuple[str, bool]] = []

    def _quiet(self) -> bool:
        return any(q for _, q in self._stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        quiet = (tag in ("script", "style", "code", "kbd", "samp", "template") or a.get("translate") == "no"
                 or not (a.get("lang") or "zh").startswith("zh"))  # another language, marked as such
        if tag not in ("br", "img", "input", "meta", "link", "hr", "source", "wbr", "col", "area"):
            self._stack.append((tag, quiet))
        if self._quiet() or quiet:
            return
        if tag == "a" and a.get("href"):
            self.links.append(str(a["href"]))
        for name in SPOKEN_ATTRS:
            if a.get(name):
                self.parts.append(str(a[name]))
        if tag == "input" and a.get("type") in ("submit", "button") and a.get("value"):
            self.parts.append(str(a["value"]))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self._stack) - 1, -1, -1):
            if self._stack[i][0] == tag:
                del self._stack[i:]
                break

    def handle_data(self, data: str) -> None:
        if not self._quiet() and data.strip():
            self.parts.append(data)


def codes(text: str) -> list[str]:
    """The internal codes in a text of any language: ``snake_case``, ``dotted.codes`` and value ids leaked as
    they are (``step on_site``)."""
    text = SKIP.sub(" ", text)
    return [w for w in WORD.findall(text) if re.search(r"[a-z]_[a-z]|[a-z]\.[a-z]", w)] + \
        re.findall(r"\b(?:step|role|line|who|action|confirm|deadline|phase|run|day|source|channel|rank|assignment|"
                   r"escalate|reason|payment) [a-z_]+\b", text)


def foreign_words(text: str) -> list[str]:
    """The Latin-letter words and codes in a Chinese text that are not meant to be read as they are."""
    found = []
    for word in WORD.findall(SKIP.sub(" ", text)):
        if word in ALLOWED or CODE.match(word) or (re.fullmatch(r"[A-Za-z]", word)):
            continue
        found.append(word)
    return found


def test_the_reader_finds_english_codes_and_snake_case_and_spares_what_is_meant() -> None:
    """The checker itself: it would fail a page with English, an event code or snake_case."""
    assert foreign_words("visit booked: 明天 08:30") == ["visit", "booked"]
    assert foreign_words("状态 next_cycle；事件 ticket.created") == ["next_cycle", "ticket.created"]
    assert foreign_words("仓库 WH-NATIONAL") == ["WH-NATIONAL"]
    assert foreign_words("型号 AG-3050 · FD-20261202-000001 · AG3050-24-000117 · TS20261202000001 · 5 MB 的 PDF"
                         " · https://x.example/a_b · 哈希 c36c4800749149cf561d3892f9e0") == []
    assert foreign_words("配件 BAT-AA ×4") == ["BAT-AA"]
    reader = _Reader()
    reader.feed('<p>你好 <code>demo-agent</code> <span translate="no">fairdesk Inc</span>'
                '<button title="Save">保存</button><script>var snake_case = 1</script></p>')
    assert foreign_words(" ".join(reader.parts)) == ["Save"]


_SIGNED_IN: dict[str, httpx.Cookies] = {}


def _login(client: httpx.Client, username: str, password: str) -> None:
    """Signed in once per role for the whole module (logins are rate-limited, as they should be)."""
    if username in _SIGNED_IN:
        client.cookies = _SIGNED_IN[username]
        return
    page = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf, "no form token on the login page"
    r = client.post("/login", data={"username": username, "password": password, "csrf": csrf.group(1)})
    assert r.status_code == 303 and "/login" not in r.headers["location"], f"{username} could not log in"
    _SIGNED_IN[username] = client.cookies


def _pdf_text(content: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(content)).pages)


def _shape(path: str) -> str:
    return re.sub(r"\d+", "#", urlsplit(path).path)


def _crawl(client: httpx.Client, base: str, role: str, lang: str = "zh-CN") -> dict[str, list[str]]:
    """Every page the role reaches by following its pages' links, and what is wrong on each."""
    queue, seen, shapes, problems = list(START[role]), set(), {}, {}
    while queue and len(seen) < MAX_PAGES:
        path = queue.pop(0)
        if path in seen or NEVER.search(urlsplit(path).path):
            continue
        shape = _shape(path)
        if shapes.get(shape, 0) >= PER_SHAPE:
            continue
        seen.add(path)
        shapes[shape] = shapes.get(shape, 0) + 1
        r = client.get(path, headers={"Accept-Language": lang})
        assert r.status_code < 500, (role, path, r.status_code)
        kind = r.headers.get("content-type", "")
        if "pdf" in kind:
            text, links = _pdf_text(r.content), []
        elif "csv" in kind:
            text, links = r.content.decode("utf-8-sig"), []
        elif "html" in kind:
            reader = _Reader()
            reader.feed(r.text)
            text, links = " ".join(reader.parts), reader.links
        else:
            continue
        bad = foreign_words(text) if lang == "zh-CN" else codes(text)
        if bad:
            problems[path] = sorted(set(bad))
        for href in links:
            url = urlsplit(urljoin(base + path, href))
            if url.netloc == urlsplit(base).netloc:
                queue.append(url.path + (f"?{url.query}" if url.query else ""))
    assert len(seen) >= len(START[role]), seen
    return problems


def _export(client: httpx.Client) -> str:
    """The manager starts the requests export from the runs page and waits for the worker's file."""
    page = client.get("/runs")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    r = client.post("/runs/start", data={"kind": "export.tickets", "days": "30", "csrf": csrf})
    assert r.status_code == 303, r.text[:500]
    run = r.headers["location"]
    for _ in range(120):
        if "/output" in client.get(run).text:
            return run + "/output"
        time.sleep(0.5)
    raise AssertionError("the worker did not finish the export")


@pytest.mark.parametrize("role", ["public", *ROLES])
def test_a_chinese_reader_meets_no_english_and_no_code(server: str, role: str) -> None:
    with httpx.Client(base_url=server, follow_redirects=False, timeout=30) as client:
        if role != "public":
            _login(client, role, ROLES[role])
        if role == "manager":
            START["manager"].append(_export(client))
        if role == "customer":
            START["customer"].append("/my/evidence.pdf")
        problems = _crawl(client, server, role)
    assert problems == {}, "\n".join(f"{path}: {' '.join(words)}" for path, words in problems.items())


@pytest.mark.parametrize("role", ["public", *ROLES])
def test_an_english_reader_meets_no_internal_code(server: str, role: str) -> None:
    """In English the words are English already; what must not leak is a code or a value's id."""
    assert {"next_cycle", "ticket.created", "step on_site"} <= set(codes("Status: next_cycle, ticket.created, "
                                                                        "step on_site. Next: the run."))
    with httpx.Client(base_url=server, follow_redirects=False, timeout=30) as client:
        if role != "public":
            _login(client, role, ROLES[role])
        problems = _crawl(client, server, role, "en")
    assert problems == {}, "\n".join(f"{path}: {' '.join(words)}" for path, words in problems.items())
