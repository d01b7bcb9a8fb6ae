"""Route modules: every module here that exposes ``router`` (an APIRouter) is mounted.

Add a file (``taxii.py``, ``cases.py``, ``screen.py``, ``web.py``) and it is served;
nothing to register. Use ``Depends(require_identity)`` / ``require_role(...)`` from
``fundtrail.server.auth`` and raise ``fundtrail.errors`` types for failures.
"""
