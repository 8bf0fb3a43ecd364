"""Issue data (issues and everything hanging off them): its snapshot format, its backup pass and its webhooks."""
