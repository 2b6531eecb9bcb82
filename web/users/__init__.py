"""Users managed by admins: the ``/admin`` page and ``/api/v1/users``; mounted by ``setup_users``."""

from web.users.http import setup_users

__all__ = ["setup_users"]
