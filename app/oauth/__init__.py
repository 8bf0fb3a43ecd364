"""Admin-authorised OAuth 2.0 (3LO) access to the parts of Jira's API that Connect apps can't call."""
