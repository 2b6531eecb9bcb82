"""The supervisor console: live discount approvals over ``/ws/supervisor`` and the ``/supervisor`` page."""
