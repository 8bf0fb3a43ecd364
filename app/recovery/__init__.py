"""Disaster recovery's domain: connections between a source and a destination site, their tokens and audit log."""
