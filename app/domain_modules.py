"""Imports every module that declares the Jira operations it calls, so the declarations are complete."""

from importlib import import_module

MODULES = (
    "app.restore.job",
    "app.connect.auth",
    "app.backups.capture",
    "app.oauth.flow",
    "app.forge.lifecycle",
)

for _name in MODULES:
    import_module(_name)
