"""Restoring a snapshot's configuration onto a destination site: plan (preview), execute (a job), report, verify."""
