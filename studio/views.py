"""Studio pages, the first-run set-up, and the error pages."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotFound, HttpResponseServerError
from django.shortcuts import redirect, render
from django.template import loader
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.roles import can_generate
from atelier.lookups import public_uuid
from atelier.rows import RowQuery
from studio import cards, catalogue, jobs
from gallery.ingest import IngestError
from studio.creation import BudgetRefused, copy_generation, create_generation
from studio.forms import AdministratorSetupForm
from studio.generation_form import GenerationForm, initial_from_arguments, visible_image_assets
from studio.models import Generation
from studio.stored_text import translate_stored
from usage.quotes import quote


RECENT_JOBS = 12


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The model picker (recently used models first) and the person's latest jobs."""
    groups = catalogue.models_by_kind()
    recent_ids = _recently_used_model_ids(request.user)
    by_id = {spec.id: spec for _, specs in groups for spec in specs}
    recent = [by_id[model_id] for model_id in recent_ids if model_id in by_id]
    return render(request, "studio/home.html", {
        "service": _service_description(),
        "groups": groups,
        "recent_models": recent,
        "jobs": _recent_jobs(request.user),
        "can_generate": can_generate(request.user),
    })


def _recently_used_model_ids(user, limit: int = 3) -> list[str]:
    seen: list[str] = []
    for model_id in Generation.objects.filter(user=user).values_list("model_id", flat=True)[:50]:
        if model_id not in seen:
            seen.append(model_id)
        if len(seen) == limit:
            break
    return seen


def _recent_jobs(user) -> list[Generation]:
    return list(Generation.objects.filter(user=user).prefetch_related("assets")[:RECENT_JOBS])


@login_required
@require_http_methods(["GET", "POST"])
def generate(request: HttpRequest, model_id: str) -> HttpResponse:
    """The form for one model; a valid POST queues a job and shows its card."""
    spec = catalogue.get_model(model_id)
    if spec is None or not can_generate(request.user):
        raise Http404("No such model.")
    if request.method == "POST":
        form = GenerationForm(spec, request.user, data=request.POST, files=request.FILES)
        generation, created = None, False
        if form.is_valid():
            try:
                generation, created = create_generation(request.user, spec, form)
            except IngestError as error:  # an upload that passed the form but not the final check
                form.add_error(None, translate_stored(str(error)))
            except BudgetRefused as refused:
                form.add_error(None, str(refused))
        if generation is not None:
            if request.htmx:
                # A fresh form (new token) plus the new card on top of the list. The cards on
                # screen stay as they are (open logs stay open, polls run on), and the list is
                # not rendered again: a Generate took ~28 ms of CPU, most of it 12 cards. A form
                # sent twice gets the whole list: its job may or may not be on screen.
                fresh = GenerationForm(spec, request.user, initial=_keep_settings(form, spec))
                return render(request, "studio/generate.html#after_submit",
                              _generate_context(request, spec, fresh, with_jobs=not created,
                                                generation=generation, new_job=created))
            return redirect(f"{request.path}?job={generation.id}")
        template = "studio/generate.html#generate_form" if request.htmx else "studio/generate.html"
        return render(request, template, _generate_context(request, spec, form, with_jobs=not request.htmx))
    return render(request, "studio/generate.html", _generate_context(request, spec, _form_from_query(request, spec)))


GALLERY_CHOICES = 24


@login_required
@require_POST
def estimate(request: HttpRequest, model_id: str) -> HttpResponse:
    """The Generate button for the form as it is now: estimated cost and budget left (htmx)."""
    spec = catalogue.get_model(model_id)
    if spec is None or not can_generate(request.user):
        raise Http404("No such model.")
    form = GenerationForm(spec, request.user, data=request.POST)
    return render(request, "studio/_generate_cost.html",
                  {"spec": spec, "quote": quote(request.user, spec, form.estimate_arguments())})


def _generate_context(request: HttpRequest, spec, form: GenerationForm, with_jobs: bool = True, **extra) -> dict:
    context = {"spec": spec, "form": form, "quote": quote(request.user, spec, form.estimate_arguments()), **extra}
    if with_jobs:
        context["jobs"] = _jobs_for(request.user, spec)
    if spec.image_fields:
        # The pictures already chosen first, so they stay visible (and sent) whatever their age.
        chosen = [asset for assets in form.chosen_assets().values() for asset in assets]
        recent = visible_image_assets(request.user).exclude(id__in=[a.id for a in chosen])[:GALLERY_CHOICES]
        context["gallery_choices"] = chosen + list(recent)
    return context


def _keep_settings(form: GenerationForm, spec) -> dict:
    """After Generate, the form keeps what the person typed; it gets a fresh token."""
    return initial_from_arguments(spec, form.arguments())


def _form_from_query(request: HttpRequest, spec) -> GenerationForm:
    """?reuse=<job> fills the form with that job's settings and seed; ?again=<job> with a new seed.

    Reusing a job the service rejected marks the fields it complained about.
    """
    for key, new_seed in (("reuse", False), ("again", True)):
        job_id = request.GET.get(key)
        if job_id:
            generation = _get_generation_for_user(request, job_id)
            arguments = {**generation.arguments}
            if generation.seed is not None and not new_seed:
                arguments["seed"] = generation.seed  # the seed fal actually used
            form = GenerationForm(spec, request.user, initial=initial_from_arguments(spec, arguments, new_seed=new_seed))
            if generation.field_errors:
                form.apply_upstream_errors(generation.field_errors)
            return form
    input_id = request.GET.get("input")
    if input_id and spec.image_fields:
        # "Use as input" from the gallery: the picture is chosen in the first picture field.
        return GenerationForm(spec, request.user, initial={f"{spec.image_fields[0].name}_gallery": [input_id]})
    return GenerationForm(spec, request.user)


def _jobs_for(user, spec) -> list[Generation]:
    return list(Generation.objects.filter(user=user, model_id=spec.id).prefetch_related("assets")[:RECENT_JOBS])


@login_required
@require_GET
def job_list(request: HttpRequest) -> HttpResponse:
    jobs_page = Generation.objects.filter(user=request.user).prefetch_related("assets")[:100]
    return render(request, "studio/jobs.html", {"jobs": jobs_page})


@login_required
@require_GET
def job_card(request: HttpRequest, generation_id: str) -> HttpResponse:
    """The job card fragment. Reads the database only: workers talk to fal, never this view.

    Every open job's card asks once a second, so it does the least it can: an unchanged
    card is a 304, a card already rendered is not rendered again (studio/cards.py), and
    there is no outputs query before there can be outputs (`Generation.outputs`).
    bench/load_job_cards.py measures it.
    """
    return cards.card_response(request, _get_generation_for_user(request, generation_id))


@login_required
@require_POST
def cancel_job(request: HttpRequest, generation_id: str) -> HttpResponse:
    generation = _get_generation_for_user(request, generation_id)
    jobs.request_cancel(generation)
    generation.refresh_from_db()
    return _card_or_redirect(request, generation)


@login_required
@require_POST
def retry_job(request: HttpRequest, generation_id: str) -> HttpResponse:
    original = _get_generation_for_user(request, generation_id)
    if not can_generate(request.user):
        raise Http404("No such job.")
    try:
        generation = copy_generation(original, request.user)
    except BudgetRefused as refused:
        if request.htmx:
            return render(request, "studio/_budget_refused.html", {"message": str(refused)})
        messages.error(request, str(refused))
        return redirect("studio:job_list")
    return _card_or_redirect(request, generation)


def _card_or_redirect(request: HttpRequest, generation: Generation) -> HttpResponse:
    if request.htmx:
        return render(request, "studio/_job_card.html", {"job": generation})
    return redirect("studio:job_list")


# Read by every job-card poll, once a second per open card (atelier.rows says why).
_OWN_JOB = RowQuery(Generation, "id", "user")


def _get_generation_for_user(request: HttpRequest, generation_id: str) -> Generation:
    """The person's own job, or 404 (never a hint that someone else's exists)."""
    generation = _OWN_JOB.get(public_uuid(generation_id, "No such job."), request.user.pk)
    if generation is None:
        raise Http404("No such job.")
    return generation



def _service_description() -> dict[str, str | bool]:
    """Where jobs go, in words a user can read: host and auth scheme, never the key."""
    if settings.FAL_USES_SIMULATOR:
        return {"simulator": True}
    parts = urlsplit(settings.FAL_BASE_URL)
    host = parts.hostname or settings.FAL_BASE_URL
    if parts.port:
        host = f"{host}:{parts.port}"
    return {
        "simulator": False,
        "host": host,
        "auth_scheme": "Bearer" if settings.FAL_AUTH_SCHEME == "bearer" else "Key",
    }


@require_http_methods(["GET", "POST"])
def setup(request: HttpRequest) -> HttpResponse:
    """First run only: create the administrator account, then never again."""
    if _accounts_exist():
        raise Http404("Atelier is already set up.")
    form = AdministratorSetupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.create_administrator()
        if user is None:
            messages.info(
                request,
                _("Someone else created the administrator account a moment ago. "
                  "Log in with an account they give you."),
            )
            return redirect("login")
        login(request, user)
        messages.success(request, _("Welcome, %(name)s. Atelier is ready.") % {"name": user.get_username()})
        return redirect("studio:home")
    return render(request, "studio/setup.html", {"form": form})


def _accounts_exist() -> bool:
    return get_user_model().objects.exists()


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return HttpResponseNotFound(loader.render_to_string("404.html", {"is_error_page": True}, request=request))


def server_error(request: HttpRequest) -> HttpResponse:
    """Rendered without the request: whatever broke the page may break context processors too."""
    try:
        body = loader.render_to_string("500.html")
    except Exception:  # the last line of defence must not fail
        body = "<!doctype html><title>Something went wrong</title><h1>Something went wrong</h1>"
    return HttpResponseServerError(body)
