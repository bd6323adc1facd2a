"""The inputs of the simulation: one schema per topic, each value with its unit, range and source."""
