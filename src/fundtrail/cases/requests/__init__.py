"""Requests between partners: a police unit asks an exchange to freeze, preserve,
identify or release; the exchange answers per deposit address, inside the hub.

``states`` is the state machine (pure), ``service`` the stored requests (who may see,
send, answer; every transition and read audited), ``notify`` the signed webhooks,
``transfer`` the JSON export and import (schema in ``docs/requests.schema.json``).
"""
