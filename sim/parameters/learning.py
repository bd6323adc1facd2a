"""Learning parameters: how residents' trust in primary care and each cell's view of each tier move with outcomes."""

from __future__ import annotations

from sim.params import StrictModel, by_tier, param, table_field

ReputationPrior = by_tier(
    "ReputationPrior",
    (0.92, 0.97, 1.0, 1.0),
    "share of visits resolved",
    "assumption: the share of visits each tier resolves (treats, neither refers on nor turns away) in the "
    "model's baseline (scale 0.2, two years, learning on: 0.922, 0.967, 0.999, 1.000), so reputations start "
    "where they settle; sensitivity range ±0.05",
    "Reputation each cell holds of each tier before any outcome, and the level its utility term is measured from",
    ge=0,
    le=1,
)


class LearningParams(StrictModel):
    """Trust and reputation learned from outcomes (off: trust stays as drawn at birth, no reputation term)."""

    enabled: bool = param(
        False,
        "on/off",
        "setting: off, so results are those of fixed trust",
        "Residents learn trust in primary care and reputations of tiers from outcomes of visits.",
    )
    trust_rate: float = param(
        0.1,
        "share of the gap per visit",
        "assumption: a few bad experiences at primary care change a resident's view; sensitivity range 0.02–0.3",
        "Step of a resident's trust toward 1 after a visit at primary care that treated them, toward 0 after one "
        "that referred them on (上转) or turned them away.",
        ge=0,
        le=1,
    )
    reputation_memory_days: float = param(
        90.0,
        "days",
        "assumption: word of mouth spreads over a season; sensitivity range 30–365",
        "Horizon over which a cell's reputation of a tier follows the day's share of its residents' visits there "
        "that were resolved.",
        ge=1,
        le=3650,
    )
    reputation_weight: float = param(
        2.0,
        "utility per unit of reputation",
        "assumption: as the weight of own trust (`choice.trust`); sensitivity range 0–5",
        "Weight of (reputation − prior) of a candidate's tier in the cell, at every candidate.",
        ge=0,
        le=50,
    )
    reputation_prior: ReputationPrior = table_field(ReputationPrior)
