"""Django's model backend, with the person of a session read by a statement built once.

Every request of a logged-in person reads that person's row, and every open job card asks
once a second (atelier.rows says what this saves). Logging in, passwords, permissions and
who may log in are Django's `ModelBackend`, unchanged.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from atelier.rows import RowQuery

UserModel = get_user_model()
_PERSON = RowQuery(UserModel, UserModel._meta.pk.name)


class PersonBackend(ModelBackend):
    def get_user(self, user_id):
        user = _PERSON.get(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None
