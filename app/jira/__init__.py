"""A Jira REST client independent of how requests are authenticated (Connect JWT, OAuth, Forge)."""
