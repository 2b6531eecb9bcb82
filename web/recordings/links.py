"""The URL of a call's recording, for call records and the detail page's ``<audio>`` player."""

from __future__ import annotations

RECORDING_ROUTE = "/api/v1/calls/{call_id}/recording"


def recording_link(call_id: int | str, recording_path: str | None) -> str | None:
    """The URL a page or API client plays the call's recording from; None when the call has none.

    Always Cobra's own endpoint, also for recordings kept on another host (``[recording]
    url_template``): the endpoint checks the role, audits the access and then redirects, so
    no access bypasses the audit. ``call_id`` is the attempt id (32 hex digits; an int is
    accepted for callers that carry one).
    """
    if not recording_path:
        return None
    return RECORDING_ROUTE.format(call_id=call_id)
