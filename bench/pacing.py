"""Predictive pacing benchmark (SPEC §5, §10 P2): simulated 8-hour shifts, one per scenario and algorithm.

    .venv/bin/python bench/pacing.py bench/scenarios/*.json [--json] [--algorithms a,b] [--seed N]
        [--amd-miss-rate R] [--out bench/results/pacing.json]

Discrete-event, virtual clock, 1 s pacing tick for every algorithm, seeded: the same
command twice prints the same figures. Writes the rows to ``bench/results/pacing.json``
(``--out -`` to skip) and checks the P2 target: ``cobra`` stays under each scenario's
abandon cap and beats the occupancy of every other algorithm that also does.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dialer.pacing.scenario import Scenario, ScenarioError, load_scenario  # noqa: E402
from dialer.pacing.simulation import ALGORITHMS, ShiftResult, simulate  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "pacing.json"

COLUMNS = (
    ("algorithm", "algorithm", "{}"),
    ("occupancy", "occup.", "{:.1%}"),
    ("abandon_rate", "abandon", "{:.2%}"),
    ("measured_abandon_rate", "measured", "{:.2%}"),
    ("max_abandon_rate_15min", "max 15min", "{:.1%}"),
    ("connects_per_agent_hour", "conn/ag-h", "{:.2f}"),
    ("agent_wait_p50_s", "wait p50", "{:.1f}s"),
    ("agent_wait_p95_s", "wait p95", "{:.1f}s"),
    ("calls_placed", "placed", "{}"),
)


def target_met(rows: list[ShiftResult], cap: float) -> tuple[bool, str]:
    """P2: cobra under the cap, and above every other algorithm that is under the cap too."""
    by_name = {r.algorithm: r for r in rows}
    cobra = by_name.get("cobra")
    if cobra is None:
        return True, "cobra not run"
    if cobra.abandon_rate > cap:
        return False, f"cobra abandons {cobra.abandon_rate:.2%} > cap {cap:.0%}"
    rivals = [r for r in rows if r.algorithm != "cobra" and r.abandon_rate <= cap]
    beaten = [r for r in rivals if r.occupancy >= cobra.occupancy]
    if beaten:
        return False, "occupancy not above " + ", ".join(f"{r.algorithm} ({r.occupancy:.1%})" for r in beaten)
    best = max((r.occupancy for r in rivals), default=0.0)
    return True, f"cobra {cobra.occupancy:.1%} at {cobra.abandon_rate:.2%}; best rival under the cap {best:.1%}"


def print_table(scenario: Scenario, rows: list[ShiftResult], seed: int, seconds: float) -> None:
    print(
        f"\n{scenario.name} (seed {seed}, {scenario.total_agents} agents, cap {scenario.abandon_cap:.0%}, "
        f"AMD miss rate {scenario.amd_miss_rate:.0%}; {seconds:.1f} s): {scenario.description}"
    )
    cells = [[fmt.format(getattr(r, key)) for key, _, fmt in COLUMNS] for r in rows]
    heads = [h for _, h, _ in COLUMNS]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(heads)]
    print("  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(heads, widths))))
    for c in cells:
        print("  ".join(v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in enumerate(zip(c, widths))))
    ok, why = target_met(rows, scenario.abandon_cap)
    print(f"P2 target {'met' if ok else 'NOT met'}: {why}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenarios", nargs="+", help="scenario JSON files (bench/scenarios/*.json)")
    ap.add_argument("--json", action="store_true", help="print the rows as a JSON list instead of tables")
    ap.add_argument("--algorithms", default=",".join(ALGORITHMS), help=f"comma-separated (default {','.join(ALGORITHMS)}; fixed-R for any R)")
    ap.add_argument("--seed", type=int, default=None, help="random seed (default: each scenario's own)")
    ap.add_argument("--amd-miss-rate", type=float, default=None, help="share of machines AMD passes as persons (default: the scenario's, else 0)")
    ap.add_argument("--out", default=str(DEFAULT_OUT), help="where to write the JSON rows ('-' for nowhere)")
    args = ap.parse_args(argv)
    algorithms = [a.strip() for a in args.algorithms.split(",") if a.strip()]
    try:
        scenarios = [load_scenario(p) for p in args.scenarios]
        if args.amd_miss_rate is not None:
            scenarios = [s.with_amd_miss_rate(args.amd_miss_rate) for s in scenarios]
    except ScenarioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out_rows: list[dict[str, object]] = []
    all_ok = True
    for sc in scenarios:
        seed = sc.seed if args.seed is None else args.seed
        started = time.perf_counter()
        try:
            rows = [simulate(sc, a, seed=seed) for a in algorithms]
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        ok, _ = target_met(rows, sc.abandon_cap)
        all_ok = all_ok and ok
        if not args.json:
            print_table(sc, rows, seed, time.perf_counter() - started)
        for r in rows:
            d = r.as_dict()
            d["abandon_cap"] = sc.abandon_cap
            out_rows.append(d)
    if args.json:
        print(json.dumps(out_rows, indent=2))
    if args.out != "-":
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(out.suffix + ".tmp")
        tmp.write_text(json.dumps(out_rows, indent=2) + "\n", encoding="utf-8")
        tmp.replace(out)
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
