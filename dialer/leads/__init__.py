"""Pure lead compliance: DDD time zones, calling windows, eligibility, aging (SPEC §4).

No database, no asyncio, no sockets: the lead picker and the importer call these
functions with plain facts and get plain decisions back.
"""
