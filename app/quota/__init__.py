"""Jira's points quota: what requests cost, the jobs' meters, the shared ledger and who goes first."""
