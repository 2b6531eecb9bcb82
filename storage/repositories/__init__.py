"""Queries the rest of Cobra needs, one module per aggregate.

Every function takes the caller's ``AsyncSession`` and only flushes: the caller owns
the transaction and commits (so several repository calls can share one).
"""
