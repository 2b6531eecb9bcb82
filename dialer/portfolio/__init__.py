"""Pure parsing and validation of portfolio CSV files (SPEC §4 "Portfolio import").

No database: the importer feeds bytes in and stores the typed rows that come out.
"""
