from django.apps import AppConfig


class StudioConfig(AppConfig):
    name = "studio"
    verbose_name = "Studio"

    def ready(self) -> None:
        from django_tasks.signals import task_finished, task_started

        from studio import checks  # noqa: F401  (registers the system checks)

        # RQ workers run task after task in one process (SimpleWorker): like a request, each task
        # starts and ends by dropping connections that are broken or past DATABASE_CONN_MAX_AGE.
        task_started.connect(_fresh_connections, dispatch_uid="studio.fresh_connections.started")
        task_finished.connect(_fresh_connections, dispatch_uid="studio.fresh_connections.finished")


def _fresh_connections(**kwargs) -> None:
    from django.db import close_old_connections

    close_old_connections()
