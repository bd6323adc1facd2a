"""The presentation layer: what a person reads — the run and comparison reports, the research pages, the dashboard.

It reads the workflow modules (`sim.runner`, `sim.comparison`, `sim.sweep`, ...) and nothing outside it
imports it, except the command line (`sim.cli`) at the top.
"""
