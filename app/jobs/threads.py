"""Worker threads a job fans out to: each gets the app context, so credentials that need the database work there."""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app


def app_context_initializer() -> Callable[[], None]:
    """A ``ThreadPoolExecutor`` initializer pushing the current app's context in each new thread.

    Only for threads a job owns: the context is never popped, and the thread ends with the pool.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def enter_app() -> None:
        app.app_context().push()

    return enter_app
