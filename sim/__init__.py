"""tiersim: an agent-based simulator of hierarchical (tiered) health care — 分级诊疗.

Public API:
    load_scenario(path, overrides) -> Scenario
    run(scenario, seed=..., years=..., progress=..., engine="array" | "reference") -> Results
    compare([baseline, alternative, ...], replications=..., workers=...) -> Comparison
    CareModel: the Mesa model, for step-by-step use.
    sim.reference.reference_model: the same model with one `Patient` agent per resident deciding for
        itself (identical results, far slower; the oracle of the tests and the benchmarks' baseline).
"""

from sim.comparison import Comparison, compare
from sim.config import Scenario, ScenarioError, load_scenario
from sim.model import CareModel
from sim.runner import Results, run

__all__ = ["CareModel", "Comparison", "Results", "Scenario", "ScenarioError", "compare", "load_scenario", "run"]
__version__ = "0.1.0"
