"""The Asterisk configuration Cobra ships (``extensions.conf``, ``manager.conf``, the abandon
message) and the helpers that install it. A package so the files travel as package data."""
