"""Official service channels, and finding phone numbers where after-sales spam hides them.

Fake "official 400 after-sales" numbers under real brands' names are a common scam. A brand registers its
official numbers and addresses; anyone can check one, and a page can be scanned for every phone number it
contains, in the spellings spam uses (400-1234-567, full-width digits, spaces or words between the digits).
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from fairdesk.domain.errors import InvalidInput

__all__ = ["ChannelKind", "FoundNumber", "Status", "classify", "find_numbers", "normalize_phone", "normalize_website"]

MAX_SCAN = 5_000_000
_CN_DIGITS = str.maketrans("〇零一二三四五六七八九壹贰叁肆伍陆柒捌玖", "00123456789123456789")
_CN_RUN = re.compile(r"[〇零一二三四五六七八九壹贰叁肆伍陆柒捌玖]{3,}")
_TAG = re.compile(r"<(script|style)\b.*?</\1\s*>|<[^>]+>", re.S | re.I)
_GROUP = re.compile(r"\d+")
# What may stand between the digit groups of one number: separators and a few words (电话, 转, 热线), but not
# the end of a sentence or another line.
_GAP = re.compile(r"^[^\d。！？!?\n]{0,6}$")
_PLAUSIBLE = (re.compile(r"^[48]00\d{7}$"), re.compile(r"^1[3-9]\d{9}$"), re.compile(r"^0[1-9]\d{1,2}\d{7,8}$"))


class ChannelKind(StrEnum):
    PHONE = "phone"
    WEBSITE = "website"
    ACCOUNT = "account"


class Status(StrEnum):
    OFFICIAL = "official"
    UNKNOWN = "unknown"
    IMPOSTOR = "impostor"


def _national(digits: str) -> str:
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) - len(prefix) >= 10:
            return digits[len(prefix):]
    return digits


def _plausible(digits: str) -> bool:
    return any(p.match(digits) for p in _PLAUSIBLE)


def normalize_phone(value: str) -> str:
    """``+86`` and the national digits of a mainland number (400/800, mobile or landline)."""
    digits = _national(re.sub(r"\D", "", unicodedata.normalize("NFKC", value).translate(_CN_DIGITS)))
    if not _plausible(digits):
        raise InvalidInput("channel.invalid_phone", f"not a mainland 400/800, mobile or landline number: {value!r}")
    return "+86" + digits


def normalize_website(value: str) -> str:
    """Host (and path) without scheme, ``www.`` or trailing slash, lower-case."""
    v = unicodedata.normalize("NFKC", value).strip().lower()
    v = re.sub(r"^[a-z]+://", "", v).removeprefix("www.").rstrip("/")
    if not re.fullmatch(r"[a-z0-9.-]+\.[a-z]{2,}(/[\w./-]*)?", v):
        raise InvalidInput("channel.invalid_website", f"not a web address: {value!r}")
    return v


@dataclass(frozen=True)
class FoundNumber:
    number: str  # as written on the page
    normalized: str


def _readable(text: str) -> str:
    text = html.unescape(_TAG.sub(" ", text[:MAX_SCAN]))
    text = unicodedata.normalize("NFKC", text)
    return _CN_RUN.sub(lambda m: m.group(0).translate(_CN_DIGITS), text)


def find_numbers(text: str) -> list[FoundNumber]:
    """Every phone number in a text or HTML page, once each, in order of appearance."""
    text = _readable(text)
    groups = list(_GROUP.finditer(text))
    found: dict[str, FoundNumber] = {}
    i = 0
    while i < len(groups):
        digits, best = "", None
        for j in range(i, len(groups)):
            if j > i and not _GAP.match(text[groups[j - 1].end():groups[j].start()]):
                break
            digits += groups[j].group(0)
            if len(digits) > 16:
                break
            national = _national(digits)
            if _plausible(national):
                best = (j, national)
        if best is None:
            i += 1
            continue
        j, national = best
        written = text[groups[i].start():groups[j].end()]
        found.setdefault("+86" + national, FoundNumber(written, "+86" + national))
        i = j + 1
    return list(found.values())


def classify(number: str, official: Mapping[str, str], brands_named: Iterable[str]) -> tuple[Status, str | None]:
    """Official (and whose), an impostor (the page names a brand whose number this is not), or unknown."""
    owner = official.get(number)
    if owner is not None:
        return Status.OFFICIAL, owner
    named = sorted(set(brands_named))
    if named:
        return Status.IMPOSTOR, "、".join(named)
    return Status.UNKNOWN, None
