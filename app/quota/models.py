"""The ledger's table: one row per budget (each tenant, and the app as a whole) holding the current window's spend."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import utcnow
from ..extensions import Model

APP_KEY = "app"  # the row every request also draws from: Atlassian counts points per app across all tenants


class QuotaCounter(Model):
    __tablename__ = "quota_ledger"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # "app" or "tenant:<id>" or "site:<url>"
    window_start: Mapped[int] = mapped_column(BigInteger, default=0)  # epoch seconds, aligned to the window
    used: Mapped[int] = mapped_column(Integer, default=0)  # points drawn in that window
    total: Mapped[int] = mapped_column(BigInteger, default=0)  # points drawn ever (settled): what operators add up
    learned_limit: Mapped[int | None] = mapped_column(Integer)  # the quota Jira's headers advertise (q=)
    learned_window: Mapped[int | None] = mapped_column(Integer)  # and its window (w=), seconds
    # The most urgent priority refused by this row's limit recently: less urgent draws stand aside until then.
    urgent_priority: Mapped[int | None] = mapped_column(Integer)
    urgent_until: Mapped[float | None] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
