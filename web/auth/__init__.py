"""Authentication and authorisation for the web app (SPEC §11).

Passwords are argon2 hashes; sessions live in the database (``web_sessions``) behind a
random cookie token; every route declares who may open it (``access``); state-changing
requests carry the session's CSRF token; logins are rate-limited in memory.
"""
