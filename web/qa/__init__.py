"""Quality monitoring on the web: call records, scorecards, reviews, the review queue, the CSV export."""

from web.qa.http import setup_qa

__all__ = ["setup_qa"]
