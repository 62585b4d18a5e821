"""Runs one address resolver over an input file in its own process; prints timing, memory and answers.

    python _resolver_driver.py SYSTEM INPUTS OUTPUT     (SYSTEM: fairdesk | cpca | cnloc)

Used by benchmarks/regions.py; cpca and cnloc run from the benchmark's own virtual environment.
Each answer is the deepest 6-digit code the system gives (county, else prefecture, else province).
"""

from __future__ import annotations

import json
import math
import resource
import sys
import time


def deepest(*codes: object) -> str | None:
    for c in codes:
        if c is None or (isinstance(c, float) and math.isnan(c)):
            continue
        text = str(c).split(".")[0]
        if text and text not in ("None", "nan"):
            return text[:6]
    return None


def main() -> None:
    system, inputs_path, output_path = sys.argv[1:4]
    with open(inputs_path, encoding="utf-8") as f:
        inputs = f.read().split("\n")[:-1]
    t0 = time.perf_counter()
    if system == "fairdesk":
        from fairdesk.reference.regions_data import default_resolver

        resolver = default_resolver()
        startup = time.perf_counter() - t0
        t1 = time.perf_counter()
        answers = [resolver.resolve(x).adcode for x in inputs]
        elapsed = time.perf_counter() - t1
        answers = [a[:9] if a else None for a in answers]
    elif system == "cpca":
        import cpca

        cpca.transform(["北京市朝阳区"])  # loads its tables
        startup = time.perf_counter() - t0
        t1 = time.perf_counter()
        df = cpca.transform(inputs)
        elapsed = time.perf_counter() - t1
        answers = [deepest(a) for a in df["adcode"].tolist()]
    elif system == "cnloc":
        import cnloc

        cnloc.getlocation(["北京市朝阳区"])
        startup = time.perf_counter() - t0
        t1 = time.perf_counter()
        df = cnloc.getlocation(inputs)
        elapsed = time.perf_counter() - t1
        answers = [deepest(c, p, q) for c, p, q in zip(df["county_adcode"].tolist(), df["city_adcode"].tolist(),
                                                      df["province_adcode"].tolist(), strict=True)]
    else:
        raise SystemExit(f"unknown system {system}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with open(output_path, "w", encoding="utf-8") as f:
        json.dump({"answers": answers, "seconds": elapsed, "startup_s": startup, "peak_mb": peak_mb}, f)


if __name__ == "__main__":
    main()
