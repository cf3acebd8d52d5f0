"""Django's database sessions, with the session row read by a statement built once.

Every request of a logged-in person reads its session, and every open job card asks once a
second (atelier.rows says what this saves). Same table, same rows, same expiry rule.
"""

from __future__ import annotations

from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.utils import timezone

from atelier.rows import RowQuery

_LIVE_SESSION = RowQuery(Session, "session_key", "expire_date__gt")


class SessionStore(db.SessionStore):
    def _get_session_from_db(self) -> Session | None:
        if self.get_model_class() is not Session:  # a subclass with its own model: the ORM's way
            return super()._get_session_from_db()
        session = _LIVE_SESSION.get(self.session_key, timezone.now())
        if session is None:
            self._session_key = None
        return session
