"""Twenty people-clicks at once against one budget, in a process of its own (see test_concurrency.py).

Run as `python -m tests.usage.concurrent_submits DATABASE_URL THREADS`. It migrates that
database, gives one member a budget of 10 jobs' worth (minus a bit), fires THREADS threads
at `create_generation` through a barrier, and prints one JSON line with what happened.
Its own process, because pytest's SQLite test database lives in memory, where threads
cannot wait for each other's locks the way they do on a real file or on PostgreSQL.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import traceback
from decimal import Decimal


def main(database_url: str, threads: int) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("TASKS_BACKEND", "database")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0, interactive=False)

    from studio import catalogue
    from studio.creation import BudgetRefused, create_generation
    from studio.generation_form import GenerationForm
    from usage import budgets, costs
    from usage.models import PersonBudget

    spec = catalogue.get_model("fal-ai/flux-pro/kontext/text-to-image")  # $0.04 a picture
    data = {"prompt": "a lighthouse at dawn", "num_images": "2", "aspect_ratio": "1:1", "output_format": "jpeg",
            "safety_tolerance": "2", "guidance_scale": "3.5"}
    person = get_user_model().objects.create_user("racer", password=None)
    estimate = costs.estimate_for(spec, GenerationForm(spec, person, data={**data, "client_token": "x" * 16})
                                  .estimate_arguments()).amount
    limit = estimate * 10 - Decimal("0.01")  # room for 9 jobs, not 10
    PersonBudget.objects.create(user=person, monthly_limit=limit)
    connection.close()

    barrier = threading.Barrier(threads)
    outcomes: list[str] = []
    lock = threading.Lock()

    def click(number: int) -> None:
        from django.db import connection as thread_connection

        try:
            form = GenerationForm(spec, person, data={**data, "client_token": f"token-{number:04d}-abcdef"})
            assert form.is_valid(), form.errors
            barrier.wait(timeout=30)
            try:
                create_generation(person, spec, form)
                outcome = "created"
            except BudgetRefused:
                outcome = "refused"
        except Exception:
            outcome = "error: " + traceback.format_exc(limit=3)
        finally:
            thread_connection.close()
        with lock:
            outcomes.append(outcome)

    workers = [threading.Thread(target=click, args=(number,)) for number in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    spent = budgets.spend(budgets.month_of(), user=person)
    print(json.dumps({
        "vendor": connection.vendor, "created": outcomes.count("created"), "refused": outcomes.count("refused"),
        "errors": [outcome for outcome in outcomes if outcome.startswith("error")],
        "estimate": str(estimate), "limit": str(limit), "spent": str(spent),
    }))
    connection.close()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
