"""The fixes a refused call to Jira names: what an administrator does so the app may call it (both doors show them)."""

from __future__ import annotations

FORGE_FIX = ("The Forge app's manifest does not grant the scope this call needs; deploy the app with the scopes "
             "listed in the README and have an administrator approve the upgrade.")
