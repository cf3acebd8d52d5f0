"""What the budget check costs: Generate under a per-person lock, and the button's estimate.

Prints, for SQLite (temp file) and optionally PostgreSQL (a scratch database):
- `create_generation` latency with a budget in force, one person clicking alone, and
  THREADS people (one budget each) clicking at once — each decision takes that person's
  lock, so different people only queue on SQLite's single writer;
- one person's THREADS simultaneous clicks against a budget room for half of them
  (created/refused counts; spend must not pass the limit);
- the estimate endpoint (POST /estimate/<model>/) latency through Django's test client.

    python bench/budget_submits.py [--threads 20] [--rounds 5] [--postgres postgres://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time

from _common import REPO, ScratchPostgres, pct, temp_dir

FORM = {"prompt": "a lighthouse at dawn", "num_images": "2", "aspect_ratio": "1:1", "output_format": "jpeg",
        "safety_tolerance": "2", "guidance_scale": "3.5"}
MODEL = "fal-ai/flux-pro/kontext/text-to-image"


def child(threads: int, rounds: int) -> None:
    import django

    django.setup()
    from decimal import Decimal

    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    call_command("migrate", verbosity=0, interactive=False)
    from studio import catalogue
    from studio.creation import BudgetRefused, create_generation
    from studio.generation_form import GenerationForm
    from usage.models import PersonBudget

    spec = catalogue.get_model(MODEL)
    users = [get_user_model().objects.create_user(f"p{n}", password=None) for n in range(threads)]
    for user in users:
        PersonBudget.objects.create(user=user, monthly_limit=Decimal("1000"))
    connection.close()

    def click(user, token: str, sink: list, barrier=None) -> None:
        from django.db import connection as own

        form = GenerationForm(spec, user, data={**FORM, "client_token": token})
        form.is_valid()
        if barrier:
            barrier.wait()
        started = time.perf_counter()
        try:
            create_generation(user, spec, form)
            sink.append(("ok", time.perf_counter() - started))
        except BudgetRefused:
            sink.append(("refused", time.perf_counter() - started))
        finally:
            own.close()

    alone: list = []
    for n in range(rounds * 10):
        click(users[0], f"alone-{n:05d}-xxxx", alone)
    together: list = []
    for r in range(rounds):
        barrier = threading.Barrier(threads)
        workers = [threading.Thread(target=click, args=(user, f"many-{r}-{i:04d}-xx", together, barrier))
                   for i, user in enumerate(users)]
        [w.start() for w in workers]
        [w.join() for w in workers]
    racer = get_user_model().objects.create_user("racer", password=None)
    PersonBudget.objects.create(user=racer, monthly_limit=Decimal("0.08") * threads / 2)
    race: list = []
    barrier = threading.Barrier(threads)
    workers = [threading.Thread(target=click, args=(racer, f"race-{i:04d}-xxxx", race, barrier))
               for i in range(threads)]
    [w.start() for w in workers]
    [w.join() for w in workers]
    from usage import budgets

    spent = budgets.spend(budgets.month_of(), user=racer)

    client = Client(HTTP_HOST="127.0.0.1")  # an allowed host of the local settings
    client.force_login(users[0])
    estimates = []
    for n in range(rounds * 20):
        started = time.perf_counter()
        response = client.post(f"/estimate/{MODEL}/", {**FORM, "num_images": str(1 + n % 4)})
        estimates.append(time.perf_counter() - started)
        assert response.status_code == 200, response.status_code

    def ms(samples) -> str:
        values = [s for _, s in samples] if samples and isinstance(samples[0], tuple) else samples
        return f"p50 {pct(values, 50) * 1000:6.1f} ms  p95 {pct(values, 95) * 1000:6.1f} ms  (n={len(values)})"

    print(f"  one person, one click at a time   {ms(alone)}")
    print(f"  {threads} people clicking at once    {ms(together)}")
    print(f"  one person, {threads} clicks at once: created {sum(1 for o, _ in race if o == 'ok')}, "
          f"refused {sum(1 for o, _ in race if o == 'refused')}, spent {spent} of {Decimal('0.08') * threads / 2}")
    print(f"  estimate endpoint                 {ms(estimates)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--postgres", default="", help="a PostgreSQL server for a scratch database")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.threads, args.rounds)
        return
    print("load average before: {:.2f} {:.2f} {:.2f} on {} cores".format(*os.getloadavg(), os.cpu_count()))
    runs = [("sqlite", None)] + ([("postgres", args.postgres)] if args.postgres else [])
    for name, server in runs:
        with temp_dir("atelier-budget-") as var_dir:
            env = {**os.environ, "DJANGO_SETTINGS_MODULE": "atelier.settings", "ATELIER_VAR_DIR": var_dir,
                   "LOG_LEVEL": "warning", "TASKS_BACKEND": "database"}
            scratch = ScratchPostgres(server) if server else None
            url = scratch.__enter__() if scratch else None
            try:
                if url:
                    env["DATABASE_URL"] = url
                print(f"{name}:")
                subprocess.run([sys.executable, __file__, "--child", "--threads", str(args.threads),
                                "--rounds", str(args.rounds)], env=env, cwd=REPO, check=True)
            finally:
                if scratch:
                    scratch.__exit__(None, None, None)


if __name__ == "__main__":
    main()
