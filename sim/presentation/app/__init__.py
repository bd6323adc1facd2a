"""The planner dashboard (`tiersim app`): levers as controls, live runs, comparison with the baseline.

Modules: `controls` (controls from the scenario schema; control values to a scenario and to TOML),
`jobs` (paired replications year by year in a background thread, cancellable), `figures` (the
district map), `server` (the Dash layout and callbacks). Its English and Chinese texts are the
reports' labels (`sim.presentation.labels`).
"""
