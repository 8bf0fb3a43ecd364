"""One emulated Jira Cloud site: its identity, its data store and its run-time knobs.

(Skeleton: the WSGI pipeline owner extends this with installations, limits, faults and the call log.)
"""

from __future__ import annotations

import uuid
from typing import Any

from .store import Store


class Site:
    def __init__(self, name: str, base_url: str = "", *, cloud_id: str | None = None) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.cloud_id = cloud_id or str(uuid.uuid4())
        self.store = Store()
        self.admins: set[str] = set()  # accountIds holding ADMINISTER
        self.extra: dict[str, Any] = {}
