"""Address resolution: fairdesk's resolver next to cpca and cnloc, on the same inputs, in one run.

    python benchmarks/regions.py            # the reference list + 100,000 generated addresses
    python benchmarks/regions.py --quick    # the reference list + 5,000 generated addresses, < 30 s

Accuracy is measured on the reference brand's service-area list (380 distinct names; the right county for
each, checked by tests/unit/test_regions.py) and on generated full addresses whose division is known by
construction. A system is right when its deepest code is the right county (for cities without counties:
the city, or the township for fairdesk). cpca and cnloc are installed into the benchmark's own virtual
environment (benchmarks/.peers-venv, made on first run), never as project dependencies. Speed is
single-threaded; start-up and peak memory are measured in a fresh process per system.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from fairdesk.reference.regions_data import default_resolver, load_table  # noqa: E402

PEERS_VENV = ROOT / "benchmarks" / ".peers-venv"
PEERS = {"cpca": "cpca==0.5.5", "cnloc": "cnloc==0.1.7"}
ROADS = ["人民路", "解放大道", "建设西路", "中山五路", "府前街", "新华北街", "滨江东路", "工业园区创业大道"]


def peers_python() -> Path:
    python = PEERS_VENV / "bin" / "python"
    if not python.exists():
        print("creating the peers' environment (cpca, cnloc) in benchmarks/.peers-venv …", file=sys.stderr)
        venv.create(PEERS_VENV, with_pip=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *PEERS.values()], check=True)
    return python


def county_level(code: str, table) -> str:  # type: ignore[no-untyped-def]
    """The county-level code of a division (for townships of cities without counties, the city)."""
    chain = table.chain(code)
    counties = [c for c in chain if len(c) == 6 and table.by_code[c].level <= 3]
    return counties[-1]


def build_inputs(n_generated: int, seed: int = 20261124) -> tuple[list[str], list[str]]:
    """The reference list (with its repeats) and generated full addresses, with the county truth of each."""
    table = load_table()
    resolver = default_resolver()
    text = (ROOT / "src" / "fairdesk" / "data" / "reference_service_areas.txt").read_text("utf-8")
    reference = [x.strip() for x in re.split("[、\n]", text) if x.strip()]
    truths = []
    for name in reference:
        r = resolver.resolve(name)  # checked name by name by the reference-list test
        truths.append(county_level(r.adcode, table) if r.adcode else "")
    rng = random.Random(seed)
    townships = [d for d in table.by_code.values() if d.level == 4]
    generated = []
    for _ in range(n_generated):
        t = rng.choice(townships)
        chain = [table.by_code[c] for c in table.chain(t.code)]
        parts = [d.name for d in chain]
        if rng.random() < 0.3:
            parts = parts[1:]  # no province, as people often write
        generated.append("".join(parts) + rng.choice(ROADS) + f"{rng.randint(1, 999)}号")
        truths.append(county_level(t.code, table))
    return reference + generated, truths


def run(system: str, python: str, inputs_file: Path) -> dict[str, object]:
    out = inputs_file.with_suffix(f".{system}.json")
    env = os.environ | {"PYTHONPATH": str(ROOT / "src")}
    subprocess.run([python, str(ROOT / "benchmarks" / "_resolver_driver.py"), system, str(inputs_file), str(out)],
                   check=True, env=env)
    return json.loads(out.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--generated", type=int)
    parser.add_argument("--no-peers", action="store_true")
    args = parser.parse_args()
    n = args.generated if args.generated is not None else (5_000 if args.quick else 100_000)
    inputs, truths = build_inputs(n)
    n_ref = len(inputs) - n
    table = load_table()
    systems = {"fairdesk": sys.executable}
    if not args.no_peers:
        python = str(peers_python())
        systems |= dict.fromkeys(PEERS, python)
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        inputs_file = Path(tmp) / "inputs.txt"
        inputs_file.write_text("".join(x + "\n" for x in inputs), encoding="utf-8")
        for system, python in systems.items():
            res = run(system, python, inputs_file)
            answers = res["answers"]
            right = []
            for a, truth in zip(answers, truths, strict=True):
                a6 = county_level(a, table) if a and a in table.by_code else (a or "")
                right.append(bool(truth) and a6 == truth)
            ref_seen: dict[str, bool] = {}
            for name, ok in zip(inputs[:n_ref], right[:n_ref], strict=True):
                ref_seen[name] = ok
            rows[system] = {
                "reference_accuracy": sum(ref_seen.values()) / len(ref_seen),
                "reference_right": sum(ref_seen.values()), "reference_distinct": len(ref_seen),
                "generated_accuracy": sum(right[n_ref:]) / max(1, n),
                "names_per_s": len(inputs) / res["seconds"], "startup_s": res["startup_s"], "peak_mb": res["peak_mb"],
                "hainan_guinan_right": right[inputs.index("海南贵南县")],
            }
    print(f"\naddress resolution, single-threaded: {len(inputs):,} inputs ({n_ref} from the reference list, "
          f"{n:,} generated full addresses)\n")
    print(f"{'system':<10}{'reference list':>18}{'generated':>11}{'names/s':>11}{'start-up s':>12}{'peak MB':>9}"
          f"{'海南贵南县':>8}")
    for system, r in rows.items():
        ref = f"{r['reference_accuracy']:.1%} ({r['reference_right']}/{r['reference_distinct']})"
        print(f"{system:<10}{ref:>18}{r['generated_accuracy']:>11.1%}{r['names_per_s']:>11,.0f}"
              f"{r['startup_s']:>12.2f}{r['peak_mb']:>9.0f}{'right' if r['hainan_guinan_right'] else 'wrong':>10}")
    print(json.dumps({"inputs": len(inputs), "generated": n, "systems": rows}, ensure_ascii=False))


if __name__ == "__main__":
    main()
