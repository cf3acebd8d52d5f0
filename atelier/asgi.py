"""ASGI entry point (uvicorn atelier.asgi:application)."""
import os

from django.core.asgi import get_asgi_application

from atelier import web_process

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "atelier.settings")
application = get_asgi_application()
web_process.prepare()
