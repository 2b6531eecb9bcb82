"""Campaigns controlled live over REST: list, start, pause, stop; mounted by ``setup_campaigns``."""

from web.campaigns.http import setup_campaigns

__all__ = ["setup_campaigns"]
