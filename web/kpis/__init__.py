"""KPIs on the web and the CLI: the report service, the JSON/CSV API and the page (SPEC §8)."""
