"""Forms of the studio room."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.forms import UserCreationForm
from django.db import IntegrityError, OperationalError, connections, router, transaction
from django.utils.translation import gettext_lazy as _

from accounts.forms import PASSWORD_AGAIN_HELP, PASSWORD_HELP


class AdministratorSetupForm(UserCreationForm):
    """The first account: a username, an optional email, and a password typed twice.

    Django's password validators run as usual (see AUTH_PASSWORD_VALIDATORS); their
    messages appear next to the password field.
    """

    email = forms.EmailField(
        label=_("Email (optional)"),
        required=False,
        help_text=_("Only used if you ever need to reset your password."),
    )

    class Meta(UserCreationForm.Meta):
        fields = ("username", "email")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].help_text = _("The name you will log in with. Letters, digits and @ . + - _ only.")
        self.fields["password1"].help_text = PASSWORD_HELP
        self.fields["password2"].label = _("Password again")
        self.fields["password2"].help_text = PASSWORD_AGAIN_HELP
        self.fields["email"].widget.attrs["autocomplete"] = "email"

    def create_administrator(self) -> AbstractBaseUser | None:
        """Save the form's user as the first administrator, or None if one already exists.

        Two visitors may submit the set-up form at the same moment. The check and the
        insert run in one transaction with the user table locked, so only one wins.
        """
        user_model = get_user_model()
        try:
            with transaction.atomic():
                _lock_user_table(user_model)
                if user_model.objects.exists():
                    return None
                user = self.save(commit=False)
                user.is_staff = True
                user.is_superuser = True
                user.save()
                return user
        except (IntegrityError, OperationalError):
            # A concurrent set-up took the same username, or SQLite refused the second
            # writer: if an account now exists we lost the race, otherwise it is a real error.
            if user_model.objects.exists():
                return None
            raise


def _lock_user_table(user_model: type[AbstractBaseUser]) -> None:
    connection = connections[router.db_for_write(user_model)]
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(user_model._meta.db_table)
        with connection.cursor() as cursor:
            # Blocks other writers (a second set-up) until this transaction ends; readers go on.
            cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
    # SQLite: our settings open every transaction with BEGIN IMMEDIATE, which already
    # takes the database's single write lock, so two set-ups run one after the other.
