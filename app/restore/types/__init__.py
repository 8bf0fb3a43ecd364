"""Per-object-type restorers: how each configuration type is matched, created and compared on a destination site.

One module per family of types; the contract is ``base.py``. The list of them all is ``app/restore/restorers.py``.
"""
