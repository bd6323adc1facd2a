"""Fit the utility of staying home (self-care) and rescale the acute rate: one baseline year per grid point.

The outside option's utility (`choice.self_care_utility`, one value for minor and moderate episodes)
is fitted so that the baseline's share of episodes cared for at home matches the share of two-week
illnesses self-treated in the National Health Services Survey (25.3–31.0% in 2008,
[li-2012-self-treatment]); the acute rate (`illness.acute_rate_adult`) is then scaled so that visits per
capita stay where they were calibrated with every episode seeking care. Prints one Markdown row per
grid point:

    python experiments/fit_self_care.py --utilities 0,0.3,0.6 --acute-rates 3.6,4.6 [--scale F] [--seed S]

A point with `--utilities off` runs with the outside option switched off (the earlier model).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import sim

REPO = Path(__file__).resolve().parents[1]


def run_point(utility: str, acute_rate: float, scale: float, seed: int) -> dict[str, float]:
    """Self-care share, visits per capita and primary visit share of the baseline's first year at one point."""
    overrides = [f"run.scale={scale}", "run.years=1", f"illness.acute_rate_adult={acute_rate}"]
    if utility == "off":
        overrides.append("choice.self_care=false")
    else:
        overrides += [f"choice.self_care_utility.minor={utility}", f"choice.self_care_utility.moderate={utility}"]
    scenario = sim.load_scenario(REPO / "scenarios" / "baseline.toml", overrides=overrides)
    row = sim.run(scenario, seed=seed).annual.iloc[0]
    return {key: float(row[key]) for key in ("self_care_share", "visits_per_capita", "primary_visit_share")}


def main() -> None:
    """Run the grid and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--utilities", default="0", help="comma-separated utilities of staying home, or 'off'")
    parser.add_argument("--acute-rates", default="3.6", help="comma-separated acute rates (episodes per year)")
    parser.add_argument("--scale", type=float, default=0.02)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print("| self-care utility | acute rate | self-care share | visits per capita | primary visit share |")
    print("|---|---|---|---|---|")
    for utility in args.utilities.split(","):
        for rate in (float(r) for r in args.acute_rates.split(",")):
            got = run_point(utility, rate, args.scale, args.seed)
            print(
                f"| {utility} | {rate} | {got['self_care_share']:.3f} | {got['visits_per_capita']:.3f} "
                f"| {got['primary_visit_share']:.3f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
