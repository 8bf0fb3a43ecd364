"""Configuration backups: snapshots taken from Jira (capture) and kept safe on our side (storage, retention)."""
