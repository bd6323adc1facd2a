"""Insurance parameters (医保): the schema, units, ranges and sources of `sim.insurance`'s inputs."""

from __future__ import annotations

from pydantic import Field

from sim.params import StrictModel, by_level, param, table_field

_RULES_SOURCE = (
    "assumption: resident scheme shaped on a typical prefecture schedule (rates fall 10–15 points a level, "
    "start-line rises); employee scheme shaped on Beijing's 2021 employee tables (outpatient ≥70%, 90% at "
    "community facilities, cap ¥20,000; inpatient ≥85%), whose original was not found"
)


OutpatientRate = by_level(
    "OutpatientRate",
    (0.55, 0.45, 0.35),
    "share",
    _RULES_SOURCE,
    "Share of an outpatient bill above the start-line the fund pays",
    ge=0,
    le=1,
)

InpatientStartLine = by_level(
    "InpatientStartLine",
    (200.0, 500.0, 1_000.0),
    "yuan per admission",
    _RULES_SOURCE,
    "Start-line of each admission (住院起付线)",
    ge=0,
    le=1e5,
)

InpatientRate = by_level(
    "InpatientRate",
    (0.85, 0.75, 0.60),
    "share",
    _RULES_SOURCE,
    "Share of an inpatient bill above the start-line the fund pays",
    ge=0,
    le=1,
)


class SchemeRules(StrictModel):
    """Benefit rules of one insurance scheme (defaults: the resident scheme, 城乡居民医保)."""

    outpatient_start_line: float = param(
        0.0, "yuan per year", _RULES_SOURCE, "Annual outpatient start-line (门诊起付线).", ge=0, le=1e5
    )
    outpatient_rate: OutpatientRate = table_field(OutpatientRate)
    outpatient_cap: float = param(
        3_000.0,
        "yuan per year",
        _RULES_SOURCE,
        "Most the fund pays for one resident's outpatient care a year.",
        ge=0,
        le=1e7,
    )
    inpatient_start_line: InpatientStartLine = table_field(InpatientStartLine)
    inpatient_rate: InpatientRate = table_field(InpatientRate)
    inpatient_cap: float = param(
        300_000.0,
        "yuan per year",
        _RULES_SOURCE,
        "Most the fund pays for one resident's admissions a year.",
        ge=0,
        le=1e8,
    )


def _employee_rules() -> SchemeRules:
    return SchemeRules(
        outpatient_start_line=1_800.0,
        outpatient_rate={"primary": 0.90, "secondary": 0.70, "tertiary": 0.70},
        outpatient_cap=20_000.0,
        inpatient_start_line={"primary": 300.0, "secondary": 800.0, "tertiary": 1_300.0},
        inpatient_rate={"primary": 0.92, "secondary": 0.88, "tertiary": 0.85},
        inpatient_cap=500_000.0,
    )


class InsuranceParams(StrictModel):
    """Both schemes' benefit rules and the fund's income."""

    employee: SchemeRules = Field(
        default_factory=_employee_rules,
        description="Urban employee basic medical insurance (职工医保); defaults shaped on Beijing's 2021 tables.",
    )
    resident: SchemeRules = Field(
        default_factory=SchemeRules, description="Urban-rural resident basic medical insurance (城乡居民医保)."
    )
    contribution_employee: float = param(
        3_100.0,
        "yuan per insured per year",
        "calibrated with contribution_resident so year-0 claims are ≈88% of income, as the national fund's "
        "84% (2023: income ¥3.35 tn, spending ¥2.82 tn [nhsa-bulletin-2023]); employee fund income was ≈¥6,180 "
        "per insured, half of it personal accounts not modelled here",
        "Pooled-fund income per employee-insured resident.",
        ge=0,
        le=1e6,
    )
    contribution_resident: float = param(
        1_250.0,
        "yuan per insured per year",
        "calibrated as contribution_employee; 2023 resident fund income was ≈¥1,098 per insured [nhsa-bulletin-2023]",
        "Pooled-fund income per resident-scheme insured.",
        ge=0,
        le=1e6,
    )
    contribution_growth: float = param(
        0.07,
        "per year",
        "assumption: fund income per insured rose ≈7%/yr 2019–23",
        "Yearly growth of contributions.",
        ge=-0.5,
        le=1,
    )
