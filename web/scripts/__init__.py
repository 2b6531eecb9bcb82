"""Versioned negotiation scripts: the supervisor's editor page and REST API (SPEC §7)."""

from web.scripts.http import setup_scripts

__all__ = ["setup_scripts"]
