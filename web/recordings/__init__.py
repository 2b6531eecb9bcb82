"""Call recordings over HTTP: ``GET /api/v1/calls/{call_id}/recording``; mounted by ``setup_recordings``."""

from web.recordings.http import setup_recordings
from web.recordings.links import recording_link

__all__ = ["recording_link", "setup_recordings"]
