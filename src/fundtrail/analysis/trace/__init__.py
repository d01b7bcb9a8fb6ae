"""Follow the money: forward and backward tracing with poison, haircut and FIFO taint.

Entry points: ``service.trace`` (one trace, exact amounts, endpoints + graph + summary)
and ``exposure.exposure`` (indirect exposure of every address at once, for screening).
Layout: ``graph``/``accgraph`` build the traversal arrays, ``walk`` (numba) and ``fifo``
walk UTXO chains, ``account`` walks balances, ``utxo``/``acctrace`` assemble results,
``stops`` says where a trace ends, ``picture``/``export`` draw and export it.
"""
