"""Background tasks (django-tasks API). Each is a thin, idempotent wrapper around studio.jobs."""

from __future__ import annotations

from django_tasks import task

from studio import jobs


@task()
def submit_generation(generation_id: str) -> None:
    jobs.submit(generation_id)


@task()
def cancel_generation(generation_id: str) -> None:
    jobs.cancel_upstream(generation_id)
