"""Scale-out settings: a bad value stops start-up with a message naming the variable."""

from __future__ import annotations

from tests.test_settings import run_manage

SHOW = ("from django.conf import settings as s; print(s.TASKS['default']['BACKEND'], s.RQ_QUEUES['default']['URL'], "
        "s.STORAGES['default']['BACKEND'], s.STORAGES['default'].get('OPTIONS', {}).get('secret_key'), "
        "s.CACHES['default']['BACKEND'].rsplit('.', 1)[-1], "
        "' '.join(s.CONTENT_SECURITY_POLICY['DIRECTIVES']['img-src']))")


def test_rq_and_a_bucket_are_chosen_by_settings_alone(tmp_path):
    secret = tmp_path / "s3-secret"
    secret.write_text("from-a-file\n")
    completed = run_manage(tmp_path, "shell", "-c", SHOW, TASKS_BACKEND="rq", REDIS_URL="redis://cache:6379/3",
                           S3_BUCKET="media", S3_ENDPOINT_URL="https://s3.example.com", S3_ACCESS_KEY_ID="id",
                           S3_SECRET_ACCESS_KEY_FILE=str(secret), FILE_SERVING="presigned",
                           CACHE_REDIS_URL="redis://cache:6379/4")
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split() == [
        "django_tasks_rq.RQBackend", "redis://cache:6379/3", "storages.backends.s3.S3Storage", "from-a-file",
        "RedisCache", "'self'", "data:", "blob:", "https://s3.example.com"]


def test_the_embedded_defaults_stay_local(tmp_path):
    completed = run_manage(tmp_path, "shell", "-c", SHOW)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split()[0] == "django_tasks_db.DatabaseBackend"
    assert completed.stdout.split()[2] == "django.core.files.storage.FileSystemStorage"


def test_impossible_combinations_are_refused_by_name(tmp_path):
    cases = [
        ({"TASKS_BACKEND": "rq", "REDIS_URL": "cache:6379"}, "REDIS_URL"),
        ({"FILE_SERVING": "presigned"}, "FILE_SERVING: presigned needs media in a bucket"),
        ({"S3_BUCKET": "media", "FILE_SERVING": "x-sendfile"}, "FILE_SERVING: x-sendfile needs media on local disk"),
        ({"S3_BUCKET": "media", "S3_ENDPOINT_URL": "minio:9000"}, "S3_ENDPOINT_URL"),
        ({"TASKS_BACKEND": "celery"}, "TASKS_BACKEND"),
        ({"CACHE_REDIS_URL": "cache:6379"}, "CACHE_REDIS_URL"),
    ]
    for env, message in cases:
        completed = run_manage(tmp_path, "check", **env)
        assert completed.returncode != 0 and message in completed.stderr, (env, completed.stderr[-500:])
        assert "Traceback" not in completed.stderr.splitlines()[-1]
