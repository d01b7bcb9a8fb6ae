"""Fiat values at the time of each transfer, from imported daily or hourly price files.

``fundtrail prices import FILE`` reads the common exporters' CSVs (:mod:`.formats`) into
the intel store; :class:`.book.PriceBook` values an amount at a transfer's time and names
the price source, for tables, pages, pictures and reports.
"""
