"""Fit the utility of staying home (self-care) with the acute rate and severity shares: one baseline year per point.

The outside option's utility for minor episodes (`choice.self_care_utility.minor`; moderate episodes
take it less `--moderate-gap`) is fitted so that the baseline's share of episodes cared for at home
matches the share of two-week illnesses self-treated in the National Health Services Survey
(25.3–31.0% in 2008, [li-2012-self-treatment]). The acute rate (`illness.acute_rate_adult`) is scaled
so that visits per capita stay where they were calibrated with every episode seeking care (3.6
episodes a year), and the severity shares with it: the severe and complex shares so that as many of
these episodes (which always seek care) reach care as before; the moderate share is 0.20 · 3.6/rate
÷ (1 − `--moderate-self-care`), a knob set so that admissions per capita stay where they were. The
defaults (0.0, 5.3, shares 0.21/0.041/0.0027) are this script's point rounded. Prints one Markdown
row per point:

    python experiments/fit_self_care.py --utilities 0.15,0.3 --acute-rates 5.3,5.5 [--scale F] [--seed S]

`--utilities off` runs the earlier model: the option off, 3.6 acute episodes a year and shares
0.20/0.06/0.004 (moderate, severe, complex).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import sim

REPO = Path(__file__).resolve().parents[1]
EARLIER_RATE = 3.6
"""Acute episodes of an adult a year when every episode sought care."""
EARLIER_SHARES = {"moderate": 0.20, "severe": 0.06, "complex": 0.004}
"""Severity shares of acute episodes when every episode sought care."""
INDICATORS = ("self_care_share", "visits_per_capita", "admissions_per_capita", "primary_visit_share")


def overrides_at(utility: str, acute_rate: float, moderate_gap: float, moderate_self_care: float) -> list[str]:
    """The scenario overrides of one point (the earlier model for `utility` "off")."""
    if utility == "off":
        shares = [f"illness.severity_{name}={share}" for name, share in EARLIER_SHARES.items()]
        return ["choice.self_care=false", f"illness.acute_rate_adult={EARLIER_RATE}", *shares]
    scaled = EARLIER_RATE / acute_rate
    return [
        f"illness.acute_rate_adult={acute_rate}",
        f"choice.self_care_utility.minor={utility}",
        f"choice.self_care_utility.moderate={float(utility) - moderate_gap}",
        f"illness.severity_moderate={EARLIER_SHARES['moderate'] * scaled / (1 - moderate_self_care):.4f}",
        f"illness.severity_severe={EARLIER_SHARES['severe'] * scaled:.4f}",
        f"illness.severity_complex={EARLIER_SHARES['complex'] * scaled:.5f}",
    ]


def run_point(overrides: list[str], scale: float, seed: int) -> dict[str, float]:
    """The indicators of the baseline's first year under `overrides`."""
    scenario = sim.load_scenario(
        REPO / "scenarios" / "baseline.toml", overrides=[f"run.scale={scale}", "run.years=1", *overrides]
    )
    row = sim.run(scenario, seed=seed).annual.iloc[0]
    return {key: float(row[key]) for key in INDICATORS}


def main() -> None:
    """Run the grid and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--utilities", default="0.0", help="comma-separated utilities of staying home, or 'off'")
    parser.add_argument("--acute-rates", default="5.3", help="comma-separated acute rates (episodes per year)")
    parser.add_argument("--moderate-gap", type=float, default=1.0, help="moderate's utility below minor's")
    parser.add_argument("--moderate-self-care", type=float, default=0.35, help="knob of the moderate share (see above)")
    parser.add_argument("--scale", type=float, default=0.02)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print("| self-care utility (minor) | acute rate | " + " | ".join(INDICATORS) + " |")
    print("|---|---|" + "---|" * len(INDICATORS))
    for utility in args.utilities.split(","):
        for rate in (float(r) for r in args.acute_rates.split(",")):
            point = overrides_at(utility, rate, args.moderate_gap, args.moderate_self_care)
            got = run_point(point, args.scale, args.seed)
            print(f"| {utility} | {rate} | " + " | ".join(f"{got[k]:.4f}" for k in INDICATORS) + " |", flush=True)


if __name__ == "__main__":
    main()
