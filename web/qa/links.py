"""Where a call's recording is served (the recordings feature owns the route; this is only its URL)."""

from __future__ import annotations


def recording_link(call_id: str, recording_path: str | None) -> str | None:
    """``/api/v1/calls/{id}/recording`` when a recording is stored for the call, else None.

    The URL names the call, never the stored path: the server finds the file from the id.
    """
    if not recording_path:
        return None
    return f"/api/v1/calls/{call_id}/recording"


__all__ = ["recording_link"]
