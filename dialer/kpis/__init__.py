"""KPIs per campaign, agent and day (SPEC §8): pure definitions and math, no I/O."""
