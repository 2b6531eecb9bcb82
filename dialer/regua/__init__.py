"""The régua de cobrança (SPEC §9): cadence rules relative to due dates, and the planner that
turns a portfolio's state and a date into the actions due (pure: no loop, no socket, no SQL).

- :mod:`dialer.regua.rules`: a rule (anchor, day offset, action, channel, conditions);
- :mod:`dialer.regua.defaults`: the default régua and its pt-BR templates;
- :mod:`dialer.regua.facts`: what the planner needs to know about an account;
- :mod:`dialer.regua.planner`: the actions due on a day, each with its idempotency key;
- :mod:`dialer.regua.channels`: which days and hours each channel may be used (SPEC §4);
- :mod:`dialer.regua.templates`: the sandboxed pt-BR message texts.
"""
