"""The interface texts' gettext catalogs are complete and compiled: what scripts/i18n keeps, the suite checks."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from fairdesk import i18n

ROOT = Path(__file__).resolve().parents[2]
LOCALE = ROOT / "src" / "fairdesk" / "locale"
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
KEYWORDS = {"_": None, "gettext": None, "t": (1,), "N_": None}


def _catalog(lang: str):
    with (LOCALE / lang / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f, locale=lang)


@pytest.fixture(scope="module")
def extracted() -> dict[str, str]:
    """Every message the templates and the code name, with where it was first seen."""
    found: dict[str, str] = {}
    for filename, line, message, _comments, _context in extract_from_dir(
            str(ROOT / "src" / "fairdesk"), METHODS, keywords=KEYWORDS):
        found.setdefault(message if isinstance(message, str) else message[0], f"{filename}:{line}")
    return found


def test_extraction_finds_the_templates_and_the_code(extracted: dict[str, str]) -> None:
    assert len(extracted) > 700
    assert "Start the import" in extracted                    # a template's literal _()
    assert "Choose another colleague" in extracted            # a problem title marked N_() in code
    assert "step accepted" in extracted                       # a value word looked up at run time


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_every_extracted_message_is_in_the_catalog(extracted: dict[str, str], lang: str) -> None:
    """A message added to a template or the code without scripts/i18n would be missing here."""
    ids = {m.id for m in _catalog(lang) if m.id}
    assert sorted(f"{where}: {text!r}" for text, where in extracted.items() if text not in ids) == []


def test_every_message_has_a_chinese_translation(extracted: dict[str, str]) -> None:
    """zh-CN is the default: an untranslated message would show in English on a Chinese page."""
    catalog = _catalog("zh_CN")
    missing = [m.id for m in catalog if m.id and (not m.string or m.fuzzy)]
    assert missing == []
    assert catalog["Log in"].string == "登录"


def test_every_value_word_has_an_english_text() -> None:
    """A word looked up by a value ('step on_site', 'next_cycle') is an id, not English: en must say it."""
    catalog = _catalog("en")
    keys = [w for w in i18n.VALUE_WORDS if w[:1].islower()]
    assert len(keys) > 100
    assert [w for w in keys if not (catalog.get(w) and catalog[w].string)] == []
    assert i18n.t("step on_site", "en") == "Technician on site"
    assert i18n.t("next_cycle", "en") == "From the next cycle"


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_the_compiled_catalog_is_current(lang: str) -> None:
    """The application reads the .mo: one compiled from an older .po would show old texts."""
    buf = io.BytesIO()
    write_mo(buf, _catalog(lang))
    assert (LOCALE / lang / "LC_MESSAGES" / "messages.mo").read_bytes() == buf.getvalue(), \
        "run scripts/i18n compile"


def test_texts_are_read_from_the_catalogs() -> None:
    assert i18n.t("Log in", "zh-CN") == "登录"
    assert i18n.t("Log in", "en") == "Log in"
    assert i18n.t("a text nobody translated", "zh-CN") == "a text nobody translated"
    assert i18n.problem_title("credit.not_found", 404, "zh-CN") == "暂无信用评分"
    assert i18n.problem_title("no.such.code", 409, "en") == "Conflict"
    assert i18n.problem_text("calendar.duplicate", "x", {"day": "2027-02-06", "first": "3"}, "zh-CN") \
        == "2027-02-06 已在第 3 行出现"


def test_no_marked_text_escapes_extraction() -> None:
    """Babel does not look inside a call's arguments for a nested N_()/t() (``t(KINDS.get(k, N_("x")))``):
    every literal so marked must still be in the catalog."""
    import re

    ids = {m.id for m in _catalog("zh_CN") if m.id}
    marked = {(path.name, m.group(1)) for path in (ROOT / "src" / "fairdesk").rglob("*.py")
              for m in re.finditer(r'\b(?:N_|t)\(\s*"([^"\n]+)"\s*[,)]', path.read_text("utf-8"))}
    assert len(marked) > 100
    assert sorted((name, text) for name, text in marked if text not in ids) == []
