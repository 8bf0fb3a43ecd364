"""Do fifty sites' hourly backups start spread over the hour, each at a slot of its own that doesn't move?"""

from __future__ import annotations

from datetime import datetime, timedelta

from app.backups.schedule import next_slot
from app.extensions import db
from app.tenants import Tenant

NOW = datetime(2026, 5, 4, 12, 0, 0)
SITES = 50


def _minutes_past(slot: datetime) -> float:
    return (slot.minute * 60 + slot.second) / 60


def test_fifty_hourly_backups_are_spread_over_the_hour(app) -> None:
    with app.app_context():
        tenants = [Tenant(client_key=f"spread-{n}", base_url=f"https://s{n}.atlassian.net", shared_secret_enc="x")
                   for n in range(SITES)]
        db.session.add_all(tenants)
        db.session.commit()
        slots = [next_slot(t.client_key, 1, NOW) for t in tenants]
        again = [next_slot(t.client_key, 1, NOW) for t in tenants]
        later = [next_slot(t.client_key, 1, NOW + timedelta(hours=5)) for t in tenants]
    assert slots == again  # stable
    assert all(b - a == timedelta(hours=5) for a, b in zip(slots, later, strict=True))  # the same minute every hour
    assert all(NOW < s <= NOW + timedelta(hours=1) for s in slots)
    marks = sorted(_minutes_past(s) for s in slots)
    gaps = [b - a for a, b in zip(marks, [*marks[1:], marks[0] + 60], strict=True)]
    even = 60 / SITES  # 1.2 minutes
    assert min(gaps) >= 0.35 * even, min(gaps)  # no two sites start together ...
    assert max(gaps) <= 2.7 * even, max(gaps)  # ... and no long stretch of the hour is left idle
    for start in range(0, 60, 6):  # every six minutes of the hour hold about a tenth of the starts
        assert 2 <= sum(start <= m < start + 6 for m in marks) <= 8
