"""Django's database sessions, with the session row read by a statement built once.

Every request of a logged-in person reads its session, and every open job card asks once a
second (atelier.rows says what this saves). Same table, same rows, same expiry rule.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.utils import timezone

from atelier.rows import RowQuery

_LIVE_SESSION = RowQuery(Session, "session_key", "expire_date__gt")
# Sessions begun before accounts.backends existed name Django's own backend. Ours is the same
# backend with a cheaper read of the person, so those people stay logged in.
_EARLIER_BACKEND = "django.contrib.auth.backends.ModelBackend"


class SessionStore(db.SessionStore):
    def load(self) -> dict:
        data = super().load()
        backends = settings.AUTHENTICATION_BACKENDS
        if data.get(BACKEND_SESSION_KEY) == _EARLIER_BACKEND and _EARLIER_BACKEND not in backends:
            data[BACKEND_SESSION_KEY] = backends[0]
        return data

    def _get_session_from_db(self) -> Session | None:
        if self.get_model_class() is not Session:  # a subclass with its own model: the ORM's way
            return super()._get_session_from_db()
        session = _LIVE_SESSION.get(self.session_key, timezone.now())
        if session is None:
            self._session_key = None
        return session
