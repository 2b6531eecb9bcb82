"""Supervisor REST API (segments, boosts, portfolio upload, customer holds); mounted by ``setup_supervisor_api``."""

from web.supervisor.api import setup_supervisor_api

__all__ = ["setup_supervisor_api"]
