"""Settings come from the environment; bad values stop start-up with the variable's name."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from atelier.env import SettingError, env_bool, env_choice, env_int, env_list, env_str, env_url

ROOT = Path(__file__).resolve().parent.parent


def run_manage(tmp_path, *args, **env):
    environment = {k: v for k, v in os.environ.items()
                   if k not in {"FAL_KEY", "DATABASE_URL", "SECRET_KEY", "ATELIER_ENV", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    environment.update({"ATELIER_VAR_DIR": str(tmp_path / "var"), **env})
    if args[0] == "shell":
        args = ("shell", "--verbosity", "0", *args[1:])
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=60)


def test_booleans_are_parsed_strictly(monkeypatch):
    monkeypatch.setenv("X_FLAG", "yes")
    assert env_bool("X_FLAG") is True
    monkeypatch.setenv("X_FLAG", "maybe")
    with pytest.raises(SettingError, match="X_FLAG"):
        env_bool("X_FLAG")


def test_numbers_and_limits(monkeypatch):
    monkeypatch.setenv("X_NUM", "12")
    assert env_int("X_NUM", 1, maximum=20) == 12
    monkeypatch.setenv("X_NUM", "twelve")
    with pytest.raises(SettingError, match="X_NUM: expected a whole number"):
        env_int("X_NUM", 1)
    monkeypatch.setenv("X_NUM", "99")
    with pytest.raises(SettingError, match="at most 20"):
        env_int("X_NUM", 1, maximum=20)


def test_lists_choices_and_urls(monkeypatch):
    monkeypatch.setenv("X_LIST", " a.example , ,b.example")
    assert env_list("X_LIST") == ["a.example", "b.example"]
    monkeypatch.setenv("X_CHOICE", "Bearer")
    assert env_choice("X_CHOICE", "key", ["key", "bearer"]) == "bearer"
    monkeypatch.setenv("X_URL", "queue.fal.run")
    with pytest.raises(SettingError, match="X_URL"):
        env_url("X_URL", "https://queue.fal.run")
    monkeypatch.setenv("X_URL", "https://proxy.example/fal/")
    assert env_url("X_URL", "") == "https://proxy.example/fal"


def test_secrets_can_come_from_a_file(monkeypatch, tmp_path):
    secret = tmp_path / "fal_key"
    secret.write_text("sk-from-file\n")
    monkeypatch.setenv("X_SECRET_FILE", str(secret))
    assert env_str("X_SECRET") == "sk-from-file"
    monkeypatch.setenv("X_SECRET", "also-set")
    with pytest.raises(SettingError, match="not both"):
        env_str("X_SECRET")


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"DATABASE_URL": "mongodb://localhost/atelier"}, "DATABASE_URL"),
        ({"FAL_AUTH_SCHEME": "token"}, "FAL_AUTH_SCHEME"),
        ({"DEBUG": "sometimes"}, "DEBUG"),
        ({"ATELIER_ENV": "production"}, "SECRET_KEY"),
        ({"FAL_KEY": "sk-1", "FAL_BASE_URL": "proxy.example"}, "FAL_BASE_URL"),
    ],
)
def test_bad_value_stops_start_up_naming_the_variable(tmp_path, env, variable):
    completed = run_manage(tmp_path, "check", **env)
    assert completed.returncode != 0
    assert f"Environment variable {variable}" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_local_secret_key_is_generated_once_and_kept(tmp_path):
    code = "from django.conf import settings; print(settings.SECRET_KEY)"
    first = run_manage(tmp_path, "shell", "-c", code)
    second = run_manage(tmp_path, "shell", "-c", code)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == second.stdout.strip() and len(first.stdout.strip()) >= 50
    assert oct((tmp_path / "var" / "secret_key").stat().st_mode)[-3:] == "600"


def test_default_database_is_sqlite_in_wal_mode(tmp_path):
    code = ("from django.db import connection; c = connection.cursor(); "
            "c.execute('PRAGMA journal_mode'); print(c.fetchone()[0])")
    completed = run_manage(tmp_path, "shell", "-c", code)
    assert completed.stdout.strip() == "wal", completed.stderr
    assert (tmp_path / "var" / "atelier.sqlite3").exists()


def test_check_is_clean_with_defaults(tmp_path):
    completed = run_manage(tmp_path, "check", MEDIA_ROOT=str(tmp_path / "media"))
    assert completed.returncode == 0, completed.stderr
    assert "no issues" in completed.stdout


def test_production_settings_pass_the_deploy_check(tmp_path):
    completed = run_manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING",
                           ATELIER_ENV="production", SECRET_KEY="p" * 20 + "-a-long-random-production-key-42",
                           ALLOWED_HOSTS="atelier.example.com", FAL_KEY="sk-test", MEDIA_ROOT=str(tmp_path / "m"))
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "no issues" in completed.stdout
