"""Price parameters: the schema, units, ranges and sources of `sim.payment`'s inputs."""

from __future__ import annotations

from pydantic import model_validator

from sim.parameters.illness import SEVERITIES
from sim.params import StrictModel, by_tier, param, table_field

COMPONENTS = ("service", "drugs", "tests")
_COST_SOURCE = (
    "calibrated so simulated cost per visit/stay matches public tertiary/secondary ¥332.7/¥221.9 per visit, "
    "¥13,539/¥6,386 per stay (2019 Jan–Sep) [nhc-costs-2019-09] at the simulated case mix; primary: assumption"
)
_MIX_SOURCE = (
    "drugs 38.0% of outpatient, 24.3% of inpatient hospital cost in 2022 [nhc-bulletin-2022]; consumables "
    "counted with drugs as in the 药品耗材 of [sanming-six-projects-2021]; tests and primary mix: assumption"
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
    (0.60, 0.55, 0.45, 0.45),
    "share",
    _MIX_SOURCE,
    "Drugs and consumables share of an outpatient bill",
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
    (0.0, 0.40, 0.42, 0.42),
    "share",
    _MIX_SOURCE,
    "Drugs and consumables share of an inpatient bill",
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
    test_share_outpatient: TestShareOutpatient = table_field(TestShareOutpatient)
    drug_share_inpatient: DrugShareInpatient = table_field(DrugShareInpatient)
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

    @model_validator(mode="after")
    def _bills_keep_a_service_part(self) -> PriceParams:
        """Drugs and tests are parts of a bill: more than the whole would bill a negative service part."""
        for kind in ("outpatient", "inpatient"):
            drugs, tests = getattr(self, f"drug_share_{kind}"), getattr(self, f"test_share_{kind}")
            for tier, total in zip(type(drugs).model_fields, drugs.as_array() + tests.as_array(), strict=True):
                if total > 1:
                    raise ValueError(f"drug_share_{kind}.{tier} + test_share_{kind}.{tier} = {total:g}; allowed ≤ 1")
        return self
