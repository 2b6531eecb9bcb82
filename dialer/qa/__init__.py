"""Quality monitoring, pure: call-record filters and cursors, scorecards, automatic flags, the review queue."""
