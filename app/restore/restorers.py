"""Every restorer, one per Jira object type: the list the restore, the preview and the pages read.

A type that isn't listed here isn't restored. The list lives outside ``app/restore/types/`` so that importing one type
module (or the modules the types use: the plan, the mapping) never imports every other.
"""

from __future__ import annotations

from .types import fields, projects, schemes, screens, sharing, simple, workflows
from .types.base import Restorer

RESTORERS: tuple[type[Restorer], ...] = (
    simple.ProjectCategories,
    simple.IssueLinkTypes,
    simple.Priorities,
    simple.Resolutions,
    simple.Statuses,
    simple.IssueTypes,
    simple.ProjectRoles,
    simple.Groups,
    fields.CustomFields,
    fields.FieldContexts,
    screens.Screens,
    screens.FieldConfigurations,
    screens.FieldConfigurationSchemes,
    screens.ScreenSchemes,
    screens.IssueTypeScreenSchemes,
    screens.IssueTypeSchemes,
    screens.PrioritySchemes,
    workflows.Workflows,
    workflows.WorkflowSchemes,
    schemes.PermissionSchemes,
    schemes.NotificationSchemes,
    schemes.IssueSecuritySchemes,
    projects.Projects,
    sharing.Filters,
    sharing.Boards,
    sharing.Dashboards,
    sharing.Settings,
)

_BY_TYPE: dict[str, Restorer] = {cls.type_key: cls() for cls in RESTORERS}


def load() -> dict[str, Restorer]:
    """Every restorer by type key (one instance each, shared: restorers keep no state of a run)."""
    return _BY_TYPE
