"""Server-rendered admin pages shown inside Jira's iframe."""
