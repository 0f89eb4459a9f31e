"""Data access by table group, in SQLAlchemy Core only.

Every function takes the connection as ``conn``: the caller (a use case) owns the
transaction and rolls it back when a function raises (a refused INSERT leaves the
transaction aborted). Unique indexes are the arbiters (email, event code, username
per event, photo content per event): functions insert and translate the violation,
never check-then-insert. Each query a hot path runs is built by a ``*_query``
function, so a test can EXPLAIN it on a populated database.
"""
