"""Price parameters: the schema, units, ranges and sources of `sim.payment`'s inputs."""

from __future__ import annotations

import numpy as np
from pydantic import model_validator

from sim.parameters.illness import SEVERITIES
from sim.params import StrictModel, by_tier, param, table_field

COMPONENTS = ("service", "drugs", "consumables", "tests")
"""Parts of every bill: service (医疗服务), drugs (药品), consumables (卫生材料) and tests (检查化验)."""
_COST_SOURCE = (
    "calibrated so simulated cost per visit/stay matches public tertiary/secondary ¥332.7/¥221.9 per visit, "
    "¥13,539/¥6,386 per stay (2019 Jan–Sep) [nhc-costs-2019-09] at the simulated case mix; primary: assumption"
)
_MIX_SOURCE = (
    "drugs and consumables together calibrated as the 药品耗材 of [sanming-six-projects-2021]; hospital drugs "
    "38.0% of outpatient, 24.3% of inpatient cost in 2022 [nhc-bulletin-2022], consumables the rest of that "
    "part; tests and primary care's mix: assumption"
)
_CONSUMABLES_SOURCE = (
    "hospitals: the drugs-and-consumables part less the drug share of [nhc-bulletin-2022] (inpatient 17.7% "
    "against 9.1% of a stay's cost in Chengdu's employee insurance claims 2011–15 [li-chengdu-2020]); "
    "primary care: assumption; sensitivity range: half to one and a half times"
)


OutpatientPrice = by_tier(
    "OutpatientPrice",
    (35.0, 100.0, 210.0, 300.0),
    "yuan per visit",
    _COST_SOURCE,
    "Bill of an outpatient visit at intensity 1, case-mix average",
    ge=0,
    le=1e5,
)

InpatientPricePerDay = by_tier(
    "InpatientPricePerDay",
    (0.0, 330.0, 810.0, 1_400.0),
    "yuan per bed-day",
    _COST_SOURCE,
    "Bill per inpatient day at intensity 1 (per-stay cost ÷ mean stay)",
    ge=0,
    le=1e6,
)

OutpatientSeverityFactor = by_tier(
    "OutpatientSeverityFactor",
    (0.85, 1.3, 1.8, 2.2),
    "×",
    "assumption",
    "Visit bill multiplier by severity",
    ge=0,
    le=100,
    keys=SEVERITIES,
)

InpatientSeverityFactor = by_tier(
    "InpatientSeverityFactor",
    (0.6, 0.8, 1.0, 1.3),
    "×",
    "assumption",
    "Per-day bill multiplier by severity",
    ge=0,
    le=100,
    keys=SEVERITIES,
)

DrugShareOutpatient = by_tier(
    "DrugShareOutpatient",
    (0.58, 0.52, 0.38, 0.38),
    "share",
    _MIX_SOURCE,
    "Drugs share of an outpatient bill",
    ge=0,
    le=1,
)

ConsumablesShareOutpatient = by_tier(
    "ConsumablesShareOutpatient",
    (0.02, 0.03, 0.07, 0.07),
    "share",
    _CONSUMABLES_SOURCE,
    "Consumables (卫生材料) share of an outpatient bill",
    ge=0,
    le=1,
)

TestShareOutpatient = by_tier(
    "TestShareOutpatient",
    (0.10, 0.15, 0.25, 0.27),
    "share",
    _MIX_SOURCE,
    "Tests share of an outpatient bill",
    ge=0,
    le=1,
)

DrugShareInpatient = by_tier(
    "DrugShareInpatient",
    (0.0, 0.30, 0.243, 0.243),
    "share",
    _MIX_SOURCE,
    "Drugs share of an inpatient bill",
    ge=0,
    le=1,
)

ConsumablesShareInpatient = by_tier(
    "ConsumablesShareInpatient",
    (0.0, 0.10, 0.177, 0.177),
    "share",
    _CONSUMABLES_SOURCE,
    "Consumables (卫生材料) share of an inpatient bill",
    ge=0,
    le=1,
)

TestShareInpatient = by_tier(
    "TestShareInpatient",
    (0.0, 0.15, 0.25, 0.27),
    "share",
    _MIX_SOURCE,
    "Tests share of an inpatient bill",
    ge=0,
    le=1,
)

IntensityDrift = by_tier(
    "IntensityDrift",
    (0.0, 0.01, 0.055, 0.065),
    "per year",
    "calibrated: baseline hospital medical revenue grows ≈11–12%/yr, above the 9% cap of "
    "[sanming-six-projects-2021] (total health expenditure +7.7%/yr 2019–21, +12.2% 2022, derived from "
    "[nhc-bulletin-2019] [nhc-bulletin-2021] [nhc-bulletin-2022])",
    "Yearly rise of service intensity under fee-for-service",
    ge=-0.5,
    le=0.5,
)


class PriceParams(StrictModel):
    """Prices, bill composition and fee-for-service drift."""

    outpatient_price: OutpatientPrice = table_field(OutpatientPrice)
    inpatient_price_per_day: InpatientPricePerDay = table_field(InpatientPricePerDay)
    outpatient_severity_factor: OutpatientSeverityFactor = table_field(OutpatientSeverityFactor)
    follow_up_factor: float = param(
        0.8,
        "×",
        "assumption: a follow-up is mostly a prescription refill",
        "Bill multiplier of a chronic follow-up.",
        ge=0,
        le=10,
    )
    inpatient_severity_factor: InpatientSeverityFactor = table_field(InpatientSeverityFactor)
    drug_share_outpatient: DrugShareOutpatient = table_field(DrugShareOutpatient)
    consumables_share_outpatient: ConsumablesShareOutpatient = table_field(ConsumablesShareOutpatient)
    test_share_outpatient: TestShareOutpatient = table_field(TestShareOutpatient)
    drug_share_inpatient: DrugShareInpatient = table_field(DrugShareInpatient)
    consumables_share_inpatient: ConsumablesShareInpatient = table_field(ConsumablesShareInpatient)
    test_share_inpatient: TestShareInpatient = table_field(TestShareInpatient)
    intensity_drift: IntensityDrift = table_field(IntensityDrift)
    price_inflation: float = param(
        0.02, "per year", "assumption: CPI-like", "Yearly rise of all prices.", ge=-0.5, le=0.5
    )
    drug_markup: float = param(
        0.0,
        "share of the drugs' cost",
        "public hospitals sell drugs at cost since the zero mark-up of 2017 [public-hospital-reform-2017]",
        "Mark-up of facilities' drug prices over what the drugs cost them (before any price lever): what a "
        "facility's surplus keeps of its drug revenue.",
        ge=0,
        le=1,
    )

    def shares(self, inpatient: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(tiers,) drugs, consumables and tests shares of an inpatient (True) or outpatient bill."""
        kind = "inpatient" if inpatient else "outpatient"
        return tuple(getattr(self, f"{part}_share_{kind}").as_array() for part in ("drug", "consumables", "test"))

    @model_validator(mode="after")
    def _bills_keep_a_service_part(self) -> PriceParams:
        """Drugs, consumables and tests are parts of a bill: more than the whole would bill a negative service part."""
        for kind in ("outpatient", "inpatient"):
            tiers = type(getattr(self, f"drug_share_{kind}")).model_fields
            for tier, total in zip(tiers, sum(self.shares(kind == "inpatient")), strict=True):
                if total > 1:
                    raise ValueError(
                        f"drug_share_{kind}.{tier} + consumables_share_{kind}.{tier} + test_share_{kind}.{tier} = "
                        f"{total:g}; allowed ≤ 1"
                    )
        return self
