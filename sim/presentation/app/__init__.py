"""The planner dashboard (`tiersim app`): levers as controls, live runs, comparison with the baseline.

Modules: `controls` (controls from the scenario schema; control values to a scenario and to TOML),
`jobs` (paired replications year by year in a background thread, cancellable), `figures` (the
district map), `text` (English and Chinese texts), `server` (the Dash layout and callbacks).
"""
