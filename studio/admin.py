"""Admin screens of the studio room: the model catalogue entries (docs/catalogue.md)."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from studio.catalogue import FIELD_TYPES, builtin_catalogue
from studio.models import CatalogueEntry
from usage.admin import ModelPriceInline

EXAMPLE_FIELDS = [
    {"use": "prompt"},
    {"use": "image_size", "default": "square_hd"},
    {"use": "num_images"},
    {"use": "seed"},
    {"name": "num_inference_steps", "type": "integer", "label": "Steps", "default": 30, "min": 1, "max": 50,
     "advanced": True, "help": "More steps give finer detail but take longer."},
    {"name": "style", "type": "choice", "label": "Style", "default": "photo",
     "choices": [{"value": "photo", "label": "Photograph"}, {"value": "illustration", "label": "Illustration"}]},
]


class CatalogueEntryForm(forms.ModelForm):
    class Meta:
        model = CatalogueEntry
        fields = ["model_id", "hidden", "title", "description", "kind", "output", "fields"]
        labels = {"hidden": _("Hidden"), "title": _("Title"), "description": _("Description"), "kind": _("Kind"),
                  "output": _("Output"), "fields": _("Fields")}
        widgets = {
            "fields": forms.Textarea(attrs={"rows": 18, "cols": 100, "spellcheck": "false",
                                            "style": "font-family: monospace"}),
            "description": forms.TextInput(attrs={"size": 100}),
        }

    def clean_fields(self) -> list:
        # An emptied box means "no fields" (fine for hiding a built-in model), not null.
        return self.cleaned_data.get("fields") or []


@admin.register(CatalogueEntry)
class CatalogueEntryAdmin(admin.ModelAdmin):
    form = CatalogueEntryForm
    inlines = [ModelPriceInline]  # the price an administrator sets for this model (docs/catalogue.md)
    list_display = ("model_id", "display_title", "hidden", "kind", "is_builtin", "updated_at")
    list_display_links = ("model_id", "display_title")
    list_filter = ("hidden", "kind")
    search_fields = ("model_id", "title", "description")
    readonly_fields = ("field_reference", "created_at", "updated_at")
    fieldsets = (
        (None, {
            "fields": ("model_id", "hidden"),
            "description": _("To hide a built-in model, enter its id and tick “Hidden”; leave everything else "
                              "empty. To change a built-in model’s price, enter its id and add a price at the "
                              "bottom. To add a model, enter its fal id and fill in the section below."),
        }),
        (_("A model that is not built in"), {
            "fields": ("title", "description", "kind", "output", "fields", "field_reference"),
        }),
        (_("History"), {"fields": ("created_at", "updated_at"), "classes": ("collapse",)}),
    )

    @admin.display(description=_("title"))
    def display_title(self, entry: CatalogueEntry) -> str:
        if entry.title:
            return entry.title
        builtin = next((spec for spec in builtin_catalogue().models if spec.id == entry.model_id), None)
        return builtin.title if builtin else "—"

    @admin.display(description=_("built in"), boolean=True)
    def is_builtin(self, entry: CatalogueEntry) -> bool:
        return entry.model_id in builtin_catalogue().ids

    @admin.display(description=_("How to write the fields"))
    def field_reference(self, entry: CatalogueEntry | None = None) -> str:
        catalogue = builtin_catalogue()
        types = format_html_join("", "<li><code>{}</code>: {}</li>", FIELD_TYPES.items())
        shared = format_html_join(", ", "<code>{}</code>", ((name,) for name in sorted(catalogue.library.templates)))
        builtins = format_html_join(", ", "<code>{}</code>", ((spec.id,) for spec in catalogue.models))
        return format_html(
            "<p>A JSON list with one entry per input of the model. Each entry has <code>name</code> (the fal "
            "input name), <code>type</code>, <code>label</code> and optionally <code>help</code>, "
            "<code>default</code>, <code>choices</code> (a list of <code>{{\"value\": …, \"label\": …}}</code>), "
            "<code>min</code>, <code>max</code>, <code>step</code>, <code>required</code>, "
            "<code>advanced</code> (folded away under “More settings”) and <code>max_items</code>. "
            "<code>{{\"use\": \"seed\"}}</code> copies a shared field of the built-in catalogue; any other "
            "setting next to <code>use</code> overrides it. Example:</p><pre>{}</pre>"
            "<p>Types:</p><ul>{}</ul><p>Shared fields: {}.</p><p>Built-in models: {}.</p>"
            "<p>More in docs/catalogue.md.</p>",
            json.dumps(EXAMPLE_FIELDS, indent=2, ensure_ascii=False), types, shared, builtins,
        )
