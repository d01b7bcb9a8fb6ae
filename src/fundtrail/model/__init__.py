"""Pure domain types: no I/O, nothing of ours imported but errors."""

from fundtrail.model.addresses import Address, parse_address
from fundtrail.model.amounts import Amount, parse_amount
from fundtrail.model.chains import Chain, get_chain

__all__ = ["Address", "Amount", "Chain", "get_chain", "parse_address", "parse_amount"]
