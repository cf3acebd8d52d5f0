"""The deployment example says what the guide says (syntax and names only; nothing is started)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_compose_example_is_valid_and_runs_every_process_the_guide_names():
    compose = yaml.safe_load((ROOT / "deploy" / "compose.example.yml").read_text())
    services = compose["services"]
    commands = {name: " ".join(service["command"]) for name, service in services.items() if "command" in service}
    assert any(command.startswith("gunicorn atelier.wsgi") for command in commands.values())
    assert "python manage.py rqworker default --job-class django_tasks_rq.Job --with-scheduler" in commands.values()
    assert "python manage.py track" in commands.values()
    assert "python manage.py migrate --noinput" in commands.values()
    environment = services["worker-1"]["environment"]
    assert environment["TASKS_BACKEND"] == "rq" and environment["DATABASE_URL"].startswith("postgres://")
    for name in environment:
        assert f"`{name.removesuffix('_FILE')}`" in (ROOT / "README.md").read_text(), f"{name} not in the README table"
    for secret in compose["secrets"]:
        assert any(secret in service.get("secrets", []) for service in services.values())


def test_guide_is_linked_and_names_only_documented_variables():
    readme = (ROOT / "README.md").read_text()
    assert "docs/deployment.md" in readme
    guide = (ROOT / "docs" / "deployment.md").read_text()
    for name in set(re.findall(r"^([A-Z][A-Z0-9_]+)=", guide, flags=re.MULTILINE)):
        assert f"`{name.removesuffix('_FILE')}`" in readme, f"{name} is not in the README's table"


def test_every_guide_starts_the_web_server_the_same_way():
    """README "Production", `make serve`, the deployment guide, the Dockerfile and the compose
    example agree on gunicorn's workers, threads, worker class and keep-alive (measured with
    bench/load_job_cards.py, see bench/README.md)."""
    flags = re.compile(r"--workers (\S+) --threads (\S+) --worker-class (\w+) --keep-alive (\d+)")
    makefile = (ROOT / "Makefile").read_text()
    defaults = dict(re.findall(r"^(WORKERS|THREADS) \?= (\d+)$", makefile, flags=re.MULTILINE))
    serve = flags.search(makefile).groups()
    assert serve[:2] == ("$(WORKERS)", "$(THREADS)")
    expected = (defaults["WORKERS"], defaults["THREADS"], *serve[2:])
    compose = yaml.safe_load((ROOT / "deploy" / "compose.example.yml").read_text())
    texts = {"README.md": (ROOT / "README.md").read_text(),
             "docs/deployment.md": (ROOT / "docs" / "deployment.md").read_text(),
             "deploy/compose.example.yml": "\n".join(" ".join(service["command"]) for service in
                                                     compose["services"].values() if "command" in service),
             "deploy/Dockerfile": " ".join(re.findall(r'"([^"]*)"', (ROOT / "deploy" / "Dockerfile").read_text()))}
    for name, text in texts.items():
        found = flags.findall(text)
        assert found, f"{name} gives no gunicorn command"
        assert set(found) == {expected}, f"{name} starts gunicorn with {found}, `make serve` with {expected}"
