"""Pacing on the web: the REST figures and settings per campaign, and the what-if tool."""
