"""The Atlassian Connect protocol layer: descriptor, lifecycle, JWT both ways, tenants. Knows nothing of backups."""
