"""Notes a restorer attaches to the outcome of the object it is working on ("dropped holder group X", "board columns
have no public API"): collected per object by the engine, saved with the outcome and shown in the report."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_CURRENT: ContextVar[list[str] | None] = ContextVar("restore_notes", default=None)


def note(text: str) -> None:
    """Attach ``text`` to the current object's outcome (a no-op outside an engine call, e.g. in a preview)."""
    notes = _CURRENT.get()
    if notes is not None and text not in notes:
        notes.append(text)


@contextmanager
def collecting() -> Iterator[list[str]]:
    """Collect the notes of the calls made inside the block (one object's work, on one worker thread)."""
    notes: list[str] = []
    token = _CURRENT.set(notes)
    try:
        yield notes
    finally:
        _CURRENT.reset(token)
