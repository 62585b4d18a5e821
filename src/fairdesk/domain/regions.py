"""China's administrative divisions and the resolver: free text → the deepest division it can prove.

The resolver finds every division name in the text (full names, short forms such as 广西 / 黔东南 / 楚雄州,
and former names such as 龙海市), groups overlapping matches into mentions, and scores each candidate
division by how many mentions fall on its chain of ancestors. The best-supported, most specific division
wins; when two unrelated divisions tie, it returns them as candidates and no code: it never guesses.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import IntEnum

__all__ = ["Division", "DivisionTable", "Level", "Resolution", "Resolver"]

MAX_INPUT = 300


class Level(IntEnum):
    PROVINCE = 1
    PREFECTURE = 2
    COUNTY = 3
    TOWNSHIP = 4

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class Division:
    """One official division: its adcode (6 digits, 9 for townships), parent, level and name."""

    code: str
    parent: str
    level: Level
    name: str


class DivisionTable:
    """The official table, indexed by code, with each division's chain of ancestors."""

    def __init__(self, divisions: Iterable[Division], former_names: Iterable[tuple[str, str]] = ()) -> None:
        self.by_code: dict[str, Division] = {d.code: d for d in divisions}
        self.former_names = [(name, code) for name, code in former_names if code in self.by_code]
        self._chains: dict[str, tuple[str, ...]] = {}
        self._ancestor_sets: dict[str, frozenset[str]] = {}

    def chain(self, code: str) -> tuple[str, ...]:
        """Codes from the province down to ``code``."""
        found = self._chains.get(code)
        if found is None:
            d = self.by_code[code]
            found = (*self.chain(d.parent), code) if d.parent in self.by_code else (code,)
            self._chains[code] = found
        return found

    def ancestors(self, code: str) -> frozenset[str]:
        """The chain as a set, cached: the resolver asks for it for every candidate."""
        found = self._ancestor_sets.get(code)
        if found is None:
            found = self._ancestor_sets[code] = frozenset(self.chain(code))
        return found

    def children(self, code: str) -> list[Division]:
        return [d for d in self.by_code.values() if d.parent == code]

    def __len__(self) -> int:
        return len(self.by_code)


# --- names and their short forms ------------------------------------------------------------------------

# The 55 minority nationalities as they appear in the names of autonomous divisions.
_ETHNIC_NAMES = (
    "蒙古 回 藏 维吾尔 苗 彝 壮 布依 朝鲜 满 侗 瑶 "
    "白 土家 哈尼 哈萨克 傣 黎 傈僳 佤 畲 高山 拉祜 水 "
    "东乡 纳西 景颇 柯尔克孜 土 达斡尔 仫佬 羌 布朗 撒拉 毛南 仡佬 "
    "锡伯 阿昌 普米 塔吉克 怒 乌孜别克 俄罗斯 鄂温克 德昂 保安 裕固 京 "
    "塔塔尔 独龙 鄂伦春 赫哲 门巴 珞巴 基诺 "
)
ETHNIC = tuple(_ETHNIC_NAMES.split())
_ETH = "|".join(sorted(ETHNIC, key=len, reverse=True))
_AUTONOMOUS = re.compile(rf"^(.+?)(?:(?:{_ETH})族?)+(?:自治州|自治县|自治旗|民族乡|民族苏木)$")
_PROVINCE_SHORT = re.compile(r"(?:壮族|回族|维吾尔)?(?:自治区|特别行政区|省|市)$")

# Match strength of a name: full names and province/prefecture short forms stand on their own; county and
# township short forms (姚安, 南圣) are weak: they count only when an ancestor is named too.
FULL, SHORT, WEAK = 2, 1, 0

# A place name followed by one of these is a street or a building, not a division: 中山路, 人民大街.
_STREET = re.compile(r"^(?:[东西南北中]?路|大道|大街|[东西南北]?街(?!道)|巷|弄|胡同|号|桥"
                     r"|广场|公园|小区|花园|大厦|村委会)")
_DROP = re.compile(r"[\s\u3000·•,，、;；:：()（）\[\]【】\"'“”‘’<>《》/\\|!！?？.。~～_\-—]+")


@dataclass(frozen=True, slots=True)
class _Span:
    """A stretch of the text that is a name, with every division that name may mean."""

    start: int
    end: int
    strength: int  # the strongest way any of its divisions is written here
    entries: tuple[tuple[str, int, bool], ...]  # (code, strength, former)

    @property
    def length(self) -> int:
        return self.end - self.start


@dataclass
class Resolution:
    """What the resolver could prove about a text: a code with its chain, or candidates, or nothing."""

    input: str
    adcode: str | None = None
    level: str | None = None
    province: str | None = None
    city: str | None = None
    county: str | None = None
    township: str | None = None
    confidence: float = 0.0
    candidates: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {"input": self.input, "adcode": self.adcode, "level": self.level, "province": self.province,
                "city": self.city, "county": self.county, "township": self.township,
                "confidence": self.confidence, "candidates": self.candidates}


def normalize(text: str) -> str:
    """NFKC (full-width letters and digits become half-width), then drop spaces and punctuation."""
    return _DROP.sub("", unicodedata.normalize("NFKC", text))[:MAX_INPUT]


def _keep(spans: list[_Span]) -> list[_Span]:
    """Drop noise: a span overlapping a longer span at least as strong (市南 in 五指山市南圣, 龙华 in 龙华区), and
    a span straddling two neighbours at least as strong (洛市镇 across 商洛市|镇安县)."""
    kept = []
    for m in spans:
        longer = False
        left = right = False
        for o in spans:
            if o is m or o.strength < m.strength or o.end <= m.start or m.end <= o.start:
                continue
            if o.length > m.length:
                longer = True
                break
            left = left or (o.start < m.start and o.end <= m.end)
            right = right or (o.start >= m.start and o.end > m.end)
        if not longer and not (left and right):
            kept.append(m)
    return kept


def _variants(d: Division) -> list[tuple[str, int]]:
    """The ways a division is written: its full name and its customary short forms."""
    name = d.name
    out: list[tuple[str, int]] = [(name, FULL)]
    if d.level is Level.PROVINCE:
        short = _PROVINCE_SHORT.sub("", name)
        if short != name and len(short) >= 2:
            out.append((short, FULL))  # 广西, 内蒙古: as good as the full name
        return out
    # Prefectures and county-level cities directly under a province (仙桃, 济源) go by their short names.
    under_province = len(d.parent) == 6 and d.parent.endswith("0000")
    short_strength = SHORT if d.level is Level.PREFECTURE or under_province else WEAK
    auto = _AUTONOMOUS.match(name)
    if auto and len(auto.group(1)) >= 2:
        short = auto.group(1)
        out.append((short, short_strength))
        if name.endswith("自治州"):
            out.append((short + "州", FULL))
        elif name.endswith("自治县"):
            out.append((short + "县", FULL))
        return out
    for suffix in ("街道办事处", "街道", "地区", "林区", "苏木", "镇", "乡", "盟", "市", "县", "区", "旗"):
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            out.append((name[: -len(suffix)], short_strength))
            break
    return out


class Resolver:
    """Resolves free text to a division; build once per process (about 0.3 s), then call ``resolve``."""

    def __init__(self, table: DivisionTable) -> None:
        self.table = table
        index: dict[str, list[tuple[str, int, bool]]] = {}
        for d in table.by_code.values():
            for text, strength in _variants(d):
                index.setdefault(text, []).append((d.code, strength, False))
        for name, code in table.former_names:
            entries = index.setdefault(name, [])
            if not any(c == code for c, _, _ in entries):
                entries.append((code, FULL, True))
                d = table.by_code[code]
                for short, strength in _variants(Division(code, d.parent, d.level, name))[1:]:
                    index.setdefault(short, []).append((code, min(strength, WEAK), True))
        self._index = {k: tuple(v) for k, v in index.items()}
        self._strength = {k: max(strength for _, strength, _ in v) for k, v in self._index.items()}
        # Every proper prefix of a name, so that a scan stops as soon as no name can continue.
        self._prefixes = frozenset(k[:i] for k in self._index for i in range(1, len(k)))

    def _spans(self, text: str) -> list[_Span]:
        found: list[_Span] = []
        index, prefixes, strength = self._index, self._prefixes, self._strength
        n = len(text)
        for i in range(n):
            end = i + 1
            while end <= n:
                piece = text[i:end]
                entries = index.get(piece)
                if entries is not None and not _STREET.match(text, end):
                    found.append(_Span(i, end, strength[piece], entries))
                if piece not in prefixes:
                    break
                end += 1
        return found

    def resolve(self, raw: str) -> Resolution:
        """The deepest division the text proves, with its chain; candidates when it cannot decide."""
        result = Resolution(input=raw)
        text = normalize(raw)
        spans = _keep(self._spans(text)) if text else []
        if not spans:
            return result
        # Overlapping spans left are one mention (楚雄 the prefecture / 楚雄 the city); each supports a chain once.
        spans.sort(key=lambda m: (m.start, -m.end))
        groups: list[set[str]] = []
        group_end = -1
        for m in spans:
            if m.start >= group_end:
                groups.append(set())
            groups[-1].update(code for code, _, _ in m.entries)
            group_end = max(group_end, m.end)

        best: dict[str, tuple[int, int, int, bool]] = {}
        ancestors = self.table.ancestors
        for m in spans:
            for code, strength, former in m.entries:
                chain = ancestors(code)
                support = sum(1 for codes in groups if not codes.isdisjoint(chain))
                if strength == WEAK and support < 2:
                    continue  # a bare short county or township name proves nothing on its own
                key = (support, strength, int(self.table.by_code[code].level), not former)
                if key > best.get(code, (-1, -1, -1, False)):
                    best[code] = key
        if not best:
            return result
        top_support = max(k[0] for k in best.values())
        contenders = {c: k for c, k in best.items() if k[0] == top_support}
        # Along one chain the deepest wins (北京市 + 朝阳区 → 朝阳区); unrelated ties are decided by how the
        # name was written (海南 alone is the province, not 海南州), else left undecided.
        deepest = {c: k for c, k in contenders.items()
                   if not any(o != c and c in ancestors(o) for o in contenders)}
        # Addresses name the largest unit first: between unrelated ties, those that agree with the first
        # mention win (中山市东升镇: 中山市, not a 东升镇 in another province).
        anchored = {c: k for c, k in deepest.items() if not groups[0].isdisjoint(ancestors(c))}
        if anchored and len(anchored) < len(deepest):
            deepest = anchored
        top = max(k[1] for k in deepest.values())
        finalists = sorted(c for c, k in deepest.items() if k[1] == top)
        if len(finalists) > 1:
            result.candidates = [self._describe(c) for c in finalists]
            result.confidence = round(1 / len(finalists), 2)
            return result
        code = finalists[0]
        key = deepest[code]
        self._fill(result, code)
        confidence = top_support / len(groups)
        if key[1] == WEAK:
            confidence *= 0.9
        if not key[3]:
            confidence *= 0.95
        result.confidence = round(confidence, 2)
        return result

    def _fill(self, result: Resolution, code: str) -> None:
        d = self.table.by_code[code]
        result.adcode, result.level = code, d.level.label
        for c in self.table.chain(code):
            node = self.table.by_code[c]
            attr = ("province", "city", "county", "township")[node.level - 1]
            setattr(result, attr, node.name)

    def _describe(self, code: str) -> dict[str, str]:
        names = [self.table.by_code[c].name for c in self.table.chain(code)]
        return {"adcode": code, "level": self.table.by_code[code].level.label, "name": "".join(names)}
