"""The floor: the one owner of agents, their phone legs, live calls and campaigns' dialing state.

:class:`~dialer.floor.model.Floor` is a pure model (no I/O, no asyncio, no clock of its
own): agent commands, domain call events, claimed leads, campaign changes and timer
expiries go in; effects (AMI actions, notices for the agent desk, database writes, timers)
come out, and :mod:`dialer.runtime` carries them out.
"""
