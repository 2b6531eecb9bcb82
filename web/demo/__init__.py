"""The embedded demo (`cobra demo`): synthetic portfolio, seeding, bots and the headless check."""
