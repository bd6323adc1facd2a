"""The reference engine: one `Patient` Mesa agent per resident, deciding for itself, one at a time.

`reference_model` builds a `CareModel` whose daily decisions (discharge, seeking care, admission)
are made patient by patient (`PatientDecisions`) with the same pure functions and random streams as the array engine, in
the same order, so on the same scenario and seed both engines give identical results. It is slow:
for small populations, as the oracle of `tests/test_engines.py` and the baseline of
`benchmarks/engine_speed.py`. Run it with `sim.run(..., engine="reference")` or
`tiersim run --engine reference`.
"""

from sim.reference.agents import Patient
from sim.reference.model import MAX_RESIDENTS, PatientDecisions, reference_model

__all__ = ["MAX_RESIDENTS", "Patient", "PatientDecisions", "reference_model"]
