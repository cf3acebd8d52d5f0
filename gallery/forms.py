"""Small forms of the gallery: share links and albums."""

from __future__ import annotations

import re
from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gallery.models import Album, ShareLink, Visibility
from gallery.sharing import new_token

# Zero-width, byte-order and direction marks: a name of only these looks empty.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
EXPIRY_CHOICES = [("", _("Never")), ("1", _("In 1 day")), ("7", _("In 7 days")), ("30", _("In 30 days"))]


class ShareLinkForm(forms.Form):
    expires_in = forms.ChoiceField(choices=EXPIRY_CHOICES, required=False, label=_("Link stops working"))
    allow_download = forms.BooleanField(required=False, label=_("Allow downloading the originals"))
    show_prompts = forms.BooleanField(required=False, label=_("Show the prompts"))

    def create(self, user, *, asset=None, album=None) -> ShareLink:
        days = self.cleaned_data.get("expires_in")
        return ShareLink.objects.create(
            token=new_token(), created_by=user, asset=asset, album=album,
            expires_at=timezone.now() + timedelta(days=int(days)) if days else None,
            allow_download=self.cleaned_data["allow_download"], show_prompts=self.cleaned_data["show_prompts"])


class AlbumForm(forms.ModelForm):
    class Meta:
        model = Album
        fields = ["name", "description", "visibility", "members_may_add"]
        labels = {"name": _("Name"), "description": _("Description"), "visibility": _("Who can see it"),
                  "members_may_add": _("Colleagues may add their work")}
        help_texts = {"members_may_add": _("Colleagues may add their work to this team album.")}
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def clean_name(self) -> str:
        name = _INVISIBLE.sub("", self.cleaned_data["name"]).strip()
        if not name:
            raise forms.ValidationError(_("Give the album a name."))
        return name

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("visibility") == Visibility.PRIVATE:
            cleaned["members_may_add"] = False
        return cleaned
