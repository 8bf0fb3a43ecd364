"""Per-object-type restorers: how each configuration type is matched, created and compared on a destination site."""
