"""Pictures people read: money-flow graphs (Graphviz) and charts with axes and units.

The web canvas, ``fundtrail trace --picture``, the campaign page and the case file all draw
from :mod:`fundtrail.pictures.flowgraph` (one aggregated, time-ordered money-flow model);
amounts and times in every label come from :mod:`fundtrail.model.display`.
"""
