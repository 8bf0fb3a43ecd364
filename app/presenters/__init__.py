"""What both doors show, built from the domain only: connections, restores, people by name (no door imports another)."""
