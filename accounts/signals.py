"""Every user gets a profile when saved; a superuser's profile always says administrator."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models.signals import post_save
from django.dispatch import receiver

from accounts.models import Profile


@receiver(post_save, sender=get_user_model(), dispatch_uid="accounts.profile_for_every_user")
def create_or_sync_profile(sender, instance, created: bool, raw: bool = False, update_fields=None, **kwargs) -> None:
    if raw:  # loaddata: profiles come from the fixture, or later from accounts.roles.profile_for
        return
    if update_fields is not None and "is_superuser" not in update_fields:
        return  # e.g. the last_login update at every login
    role = Profile.Role.ADMINISTRATOR if instance.is_superuser else Profile.Role.MEMBER
    if created:
        profile, _ = Profile.objects.get_or_create(user=instance, defaults={"role": role})
        instance.profile = profile  # cached on the instance: no query on first use
    elif instance.is_superuser:
        # A user saved before this app existed has no profile yet.
        profile, made = Profile.objects.get_or_create(user=instance, defaults={"role": role})
        if not made and profile.role != role:
            profile.role = role
            profile.save(update_fields=["role", "updated_at"])
