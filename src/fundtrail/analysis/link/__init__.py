"""Where victims' money meets: the graph side of campaign linking.

One forward walk from every complaint's payment at once, over the tracing part's chain
arrays, with a union-find over the groups of complaints: when money of two groups is
spent together, or rests at the same wallet or cash-out deposit address, the groups
join, and the walk records where (:class:`~fundtrail.analysis.link.meet.Meeting`).

What must *not* join two groups is where most of the money is someone else's: an
exchange's sweep or hot wallet, a big service, a CoinJoin, a mixer's pool. The rules
(in :mod:`~fundtrail.analysis.link.meet`) are stated on shares of complaint money, so
they hold on chains of any size and on whatever laundering style a gang uses.
"""
