"""Parquet + DuckDB storage of ledger data, keyed by dense integer address ids."""

from fundtrail.chainstore.addressbook import AddressBook
from fundtrail.chainstore.store import ChainStore, ChainStoreWriter

__all__ = ["AddressBook", "ChainStore", "ChainStoreWriter"]
