"""Our job machinery: job rows in the database (state, progress, checkpoints), dispatch to threads or RQ, recovery.

Thin by design: jobs take ids, load, delegate to a domain object, and record a terminal state.
"""
