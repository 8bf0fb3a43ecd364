"""Resource modules: each registers the handlers, defaults and seed types of the objects it owns.

Import order here is registration order for defaults (seeding order comes from each seed key's ``after``).
"""

from importlib import import_module

_MODULES = ("basics", "fields", "screens", "typeschemes", "workflows", "schemes", "projects", "sharing", "sprints",
            "issues", "issue_search", "comments", "worklogs", "attachments", "links", "sprint_issues")

for _name in _MODULES:
    try:
        import_module(f"{__name__}.{_name}")
    except ModuleNotFoundError as exc:  # a module not written yet: only tolerated for itself
        if exc.name != f"{__name__}.{_name}":
            raise
