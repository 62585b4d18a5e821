"""A simulated day of contacts: intent throughput, routing latency, and the fairness figures it produced.

    python benchmarks/contact.py            # 30,000 conversations, 40 agents
    python benchmarks/contact.py --quick    # 3,000 conversations, 5 agents, < 30 s

Messages are drawn from the intent corpus (tests/data/intents/corpus.tsv); conversations arrive over 24
hours with a midday peak; each agent holds up to 3 conversations and spends 2-8 minutes on one. Routing uses
fairdesk's own domain code (Conversation.receive, assign) with the default published policy, in process.
No peer is named by the issue; the figures to read are the routing p99 and the upgrade/downgrade waits.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from fairdesk.domain.contact import (  # noqa: E402
    Agent,
    Conversation,
    ConversationStatus,
    RoutingPolicy,
    assign,
    fairness_figures,
)
from fairdesk.domain.intents import classify  # noqa: E402
from fairdesk.reference.intent_rules import default_rules  # noqa: E402

T0 = datetime(2026, 11, 24, 16, 0, tzinfo=UTC)  # midnight in Shanghai


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--conversations", type=int)
    parser.add_argument("--agents", type=int, default=None)
    args = parser.parse_args()
    n = args.conversations or (3_000 if args.quick else 30_000)
    n_agents = args.agents or (5 if args.quick else 40)
    rng = random.Random(24)
    corpus = [line.split("\t", 1)[1] for line in
              (ROOT / "tests" / "data" / "intents" / "corpus.tsv").read_text("utf-8").splitlines()
              if line and not line.startswith("#")]
    rules = default_rules()

    # Intent throughput on its own.
    sample = [rng.choice(corpus) for _ in range(50_000 if not args.quick else 10_000)]
    t = time.perf_counter()
    for m in sample:
        classify(m, rules)
    intent_rate = len(sample) / (time.perf_counter() - t)

    # Arrivals: a day with a midday peak.
    arrivals = sorted(T0 + timedelta(seconds=86400 * min(0.9999, max(0.0, rng.gauss(0.5, 0.18)))) for _ in range(n))
    policy = RoutingPolicy()
    agents = [Agent(1, i, ("zh-CN",), capacity=3) for i in range(n_agents)]
    busy_until: dict[int, list[datetime]] = {a.user_id: [] for a in agents}
    waiting: list[Conversation] = []
    served: list[Conversation] = []
    decisions: list[float] = []
    longest_queue = 0
    channels = ["web", "chat", "hotline", "api"]
    for i, at in enumerate(arrivals):
        for a in agents:  # free agents whose conversations have ended
            ends = busy_until[a.user_id]
            done = [e for e in ends if e <= at]
            for e in done:
                ends.remove(e)
            a.load = len(ends)
        conv = Conversation(brand_id=1, channel=rng.choice(channels), language="zh-CN", opened_at=at, id=i,
                            vulnerable=rng.random() < 0.04)
        clock = at
        for _ in range(rng.randint(1, 3)):
            intent, _ = classify(rng.choice(corpus), rules)
            conv.receive(intent, clock, policy)
            clock += timedelta(seconds=rng.randint(5, 40))
            if conv.status is not ConversationStatus.BOT:
                break
        if conv.status is ConversationStatus.BOT and rng.random() < 0.3:
            conv.ask_for_human(clock)
        if conv.status is ConversationStatus.WAITING:
            waiting.append(conv)
        longest_queue = max(longest_queue, len(waiting))
        started = time.perf_counter()
        pairs = assign(waiting, agents, at, policy)
        decisions.append((time.perf_counter() - started) * 1000)
        for c, agent in pairs:
            waiting.remove(c)
            c.reply(agent.user_id, at)  # the simulated agent answers the moment it is theirs
            served.append(c)
            busy_until[agent.user_id].append(at + timedelta(seconds=rng.randint(120, 480)))
    figures = fairness_figures(served, max(c.opened_at for c in served))
    p99 = statistics.quantiles(decisions, n=100)[98]
    print(f"\na simulated day: {n:,} conversations, {n_agents} agents (capacity 3), {len(served):,} reached a person, "
          f"{len(waiting):,} still waiting at midnight\n")
    print(f"intent detection: {intent_rate:,.0f} messages/s (single thread)")
    print(f"routing decision: p50 {statistics.median(decisions):.3f} ms, p99 {p99:.3f} ms "
          f"(longest queue: {longest_queue} waiting)\n")
    print(f"{'intent':<11}{'conversations':>14}{'reached person':>16}{'median wait s':>15}{'p90 wait s':>12}")
    for intent, f in figures["time_to_human_by_intent"].items():
        med = "-" if f["median_s"] is None else f"{f['median_s']:.0f}"
        p90 = "-" if f["p90_s"] is None else f"{f['p90_s']:.0f}"
        print(f"{intent:<11}{f['conversations']:>14,}{f['reached_human']:>16,}{med:>15}{p90:>12}")
    print(f"\ndowngrades/cancels/refunds slower than upgrades: {figures['slower_than_upgrade'] or 'none'}")
    print(json.dumps({"conversations": n, "agents": n_agents, "served": len(served), "intent_msgs_per_s":
                      round(intent_rate), "routing_p50_ms": round(statistics.median(decisions), 4),
                      "routing_p99_ms": round(p99, 4), "longest_queue": longest_queue, "fairness": figures},
                     ensure_ascii=False))


if __name__ == "__main__":
    main()
