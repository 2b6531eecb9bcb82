"""Campaigns steered from the supervisor pages: /supervisor/campanhas and the REST routes they add."""
