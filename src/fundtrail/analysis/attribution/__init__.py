"""Attribution: who a cluster is, read from current inputs (never copied at cluster time).

``attribution(store, viewer=...)`` gives an ``Attribution``: the primary ``Entity`` of
every attributed cluster (from tags, the intel the viewer may see, and behaviour such as
deposit sweeps), the stop mask a trace needs, and every label row for cluster pages.
"""

from fundtrail.analysis.attribution.entity import STOP_CATEGORIES, Entity
from fundtrail.analysis.attribution.lookup import Attribution, attribution, refresh

__all__ = ["STOP_CATEGORIES", "Attribution", "Entity", "attribution", "refresh"]
