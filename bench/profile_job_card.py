"""Where the CPU of one job-card poll goes, measured in this process (no HTTP, no other load).

A logged-in person's browser polls `/jobs/<id>/card/` once a second per open job
(bench/load_job_cards.py drives 200 of them). This script calls Atelier's WSGI application
directly, with the environ gunicorn would build for such a poll (session cookie, htmx
headers, Accept-Language), and times in CPU seconds:

- the whole poll, as gunicorn's worker runs it (middleware, view, response);
- the same poll when the browser already holds the card and asks with If-None-Match;
- the middleware stack and login check alone (the view swapped for an empty one);
- each database query alone (session, person, job) and the template render alone.

    python bench/profile_job_card.py                  # 2,000 polls per figure
    python bench/profile_job_card.py --profile        # plus cProfile's top functions of the full poll
    python bench/profile_job_card.py --state queued --requests 5000
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import MODEL_ID, print_table, setup_django, temp_dir  # noqa: E402


def cpu_per_call(function, count: int) -> float:
    """Mean CPU seconds of one call, after a few unmeasured calls (caches, lazy imports)."""
    for _ in range(min(50, count)):
        function()
    started = time.process_time()
    for _ in range(count):
        function()
    return (time.process_time() - started) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000, help="calls per figure (default 2000)")
    parser.add_argument("--state", default="running", choices=["submitting", "queued", "running", "collecting"])
    parser.add_argument("--language", default="en-GB,en;q=0.9", help="the browser's Accept-Language")
    parser.add_argument("--profile", action="store_true",
                        help="print cProfile's top functions of a poll (a 304 one when the card has an ETag)")
    args = parser.parse_args()

    with temp_dir("atelier-card-profile-") as workdir:
        setup_django(os.path.join(workdir, "var"), "http://127.0.0.1:9")
        from django.conf import settings
        from django.contrib.auth import get_user_model
        from django.contrib.auth.decorators import login_required
        from importlib import import_module

        from django.contrib.auth import load_backend
        from django.core.wsgi import get_wsgi_application
        from django.db import connection
        from django.http import HttpResponse
        from django.template.loader import render_to_string
        from django.test import Client, RequestFactory
        from django.urls import get_resolver
        from django.utils import timezone

        from studio.models import Generation

        user = get_user_model().objects.create_user("profile", password="profile-passphrase-73")
        client = Client()
        assert client.login(username="profile", password="profile-passphrase-73")
        session_key = client.cookies[settings.SESSION_COOKIE_NAME].value
        csrf = "x" * 32
        now = timezone.now()
        generation = Generation.objects.create(
            user=user, model_id=MODEL_ID, model_title="FLUX.1 [dev]", kind="text-to-image",
            arguments={"prompt": "a lighthouse at dusk, oil on canvas", "image_size": "square", "num_images": 1},
            prompt="a lighthouse at dusk, oil on canvas", client_token="profile-1", state=args.state,
            request_id="req-1", queue_position=3 if args.state == "queued" else None,
            logs=[{"message": f"step {n} of 28"} for n in range(1, 11)] if args.state == "running" else [],
            submitted_at=now, started_at=now if args.state in ("running", "collecting") else None)
        path = f"/jobs/{generation.id}/card/"

        application = get_wsgi_application()
        base_environ = {
            "REQUEST_METHOD": "GET", "PATH_INFO": path, "SCRIPT_NAME": "", "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8200", "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "127.0.0.1:8200",
            "HTTP_COOKIE": f"{settings.SESSION_COOKIE_NAME}={session_key}; csrftoken={csrf}",
            "HTTP_ACCEPT": "*/*", "HTTP_ACCEPT_LANGUAGE": args.language,
            "HTTP_USER_AGENT": "Mozilla/5.0 (X11; Linux x86_64) Chrome/120 Safari/537.36",
            "HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": f"job-{generation.id}",
            "HTTP_HX_TRIGGER": f"job-{generation.id}",
            "HTTP_HX_CURRENT_URL": f"http://127.0.0.1:8200/generate/{MODEL_ID}/",
            "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr, "wsgi.multithread": True,
            "wsgi.multiprocess": True, "wsgi.run_once": False, "wsgi.version": (1, 0),
        }
        answer: dict = {}

        def start_response(status, headers, exc_info=None):
            answer["status"], answer["headers"] = status, dict(headers)

        def poll(extra: dict | None = None) -> bytes:
            environ = {**base_environ, "wsgi.input": io.BytesIO(b""), **(extra or {})}
            result = application(environ, start_response)
            try:
                return b"".join(result)
            finally:
                result.close()  # request_finished, as gunicorn calls it

        body = poll()
        first_status = answer["status"]
        if not first_status.startswith("200"):
            raise SystemExit(f"the card answered {first_status}: {body[:300]!r}")
        etag = answer["headers"].get("ETag")

        # Queries of one poll, with their own time.
        queries: list[tuple[str, float]] = []

        def timed(execute, sql, params, many, context):
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                queries.append((sql, time.perf_counter() - started))

        with connection.execute_wrapper(timed):
            poll()
        poll_queries = list(queries)

        rows = [("poll status, body bytes", f"{first_status}, {len(body)}"),
                ("queries in one poll", f"{len(poll_queries)}: " + "; ".join(
                    sql.split(" FROM ")[1].split()[0].strip('"') for sql, _ in poll_queries if " FROM " in sql))]
        try:
            from studio.cards import rendered_cards
        except ImportError:  # before studio/cards.py: every poll renders
            rendered_cards = None

        def rendered_poll() -> bytes:
            if rendered_cards is not None:
                rendered_cards.clear()
            return poll()

        full = cpu_per_call(rendered_poll, args.requests)
        rows.append(("whole poll (WSGI application), card rendered", f"{full * 1000:6.2f} ms"))
        if rendered_cards is not None:
            from_cache = cpu_per_call(poll, args.requests)
            rows.append(("  card already rendered by this process", f"{from_cache * 1000:6.2f} ms"))
        if etag:
            unchanged = cpu_per_call(lambda: poll({"HTTP_IF_NONE_MATCH": etag}), args.requests)
            status = answer["status"]
            rows.append((f"  unchanged card, If-None-Match -> {status.split()[0]}", f"{unchanged * 1000:6.2f} ms"))

        # The same poll with the view cut short at each step: what each step adds.
        def patterns(resolver):
            for entry in resolver.url_patterns:
                yield from patterns(entry) if hasattr(entry, "url_patterns") else [entry]

        pattern = next(p for p in patterns(get_resolver()) if p.callback.__name__ == "job_card")
        original = pattern.callback
        from studio.views import _get_generation_for_user

        @login_required
        def login_only(request, generation_id):
            return HttpResponse(b"")

        @login_required
        def job_lookup(request, generation_id):
            _get_generation_for_user(request, generation_id)
            return HttpResponse(b"")

        steps = {}
        for name, view in (("login", login_only), ("lookup", job_lookup)):
            pattern.callback = view
            try:
                steps[name] = cpu_per_call(poll, args.requests)
            finally:
                pattern.callback = original
        rows.append(("  middleware + login check (view returns at once)", f"{steps['login'] * 1000:6.2f} ms"))
        rows.append(("  + the job lookup (view returns after it)", f"{(steps['lookup'] - steps['login']) * 1000:6.2f} ms"))
        rows.append(("  + the rest of the view, card rendered", f"{(full - steps['lookup']) * 1000:6.2f} ms"))

        # Each read as a poll makes it: the configured session engine and login backend, the view's lookup.
        SessionStore = import_module(settings.SESSION_ENGINE).SessionStore
        backend = load_backend(settings.AUTHENTICATION_BACKENDS[0])
        owner = RequestFactory().get(path)
        owner.user = user
        session_cpu = cpu_per_call(lambda: SessionStore(session_key).load(), args.requests)
        user_cpu = cpu_per_call(lambda: backend.get_user(user.pk), args.requests)
        job_cpu = cpu_per_call(lambda: _get_generation_for_user(owner, str(generation.id)), args.requests)
        rows.append(("  query: session (SessionStore.load)", f"{session_cpu * 1000:6.2f} ms"))
        rows.append(("  query: person (login backend's get_user)", f"{user_cpu * 1000:6.2f} ms"))
        rows.append(("  query: job (the view's lookup)", f"{job_cpu * 1000:6.2f} ms"))
        rows.append(("  SQL time inside those three, one poll",
                     f"{sum(seconds for _, seconds in poll_queries) * 1000:6.2f} ms (wall)"))

        request = RequestFactory().get(path, headers={"HX-Request": "true"})
        request.user = user
        request.session = SessionStore(session_key)
        job = Generation.objects.get(id=generation.id)
        render_cpu = cpu_per_call(lambda: render_to_string("studio/_job_card.html", {"job": job}, request=request),
                                  args.requests)
        bare_cpu = cpu_per_call(lambda: render_to_string("studio/_job_card.html", {"job": job}), args.requests)
        rows.append(("  template render, with context processors", f"{render_cpu * 1000:6.2f} ms"))
        rows.append(("  template render, without them", f"{bare_cpu * 1000:6.2f} ms"))

        print_table(f"One job-card poll ({args.state}), CPU per call over {args.requests} calls, "
                    f"load average {os.getloadavg()[0]:.2f}", rows)

        if args.profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(args.requests):
                poll({"HTTP_IF_NONE_MATCH": etag} if etag else {})
            profiler.disable()
            stats = pstats.Stats(profiler)
            stats.sort_stats("cumulative").print_stats(40)
            stats.sort_stats("tottime").print_stats(25)
        connection.close()


if __name__ == "__main__":
    main()
