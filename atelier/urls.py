"""Top-level URLs: accounts, admin, and the two rooms (studio at /, gallery at /gallery/)."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from accounts import views as account_views

urlpatterns = [
    path("admin/", admin.site.urls),
    # Django's login view with a rate limit per account and per address (accounts.throttle).
    path("login/", account_views.log_in, name="login"),
    # Django 5 only accepts POST here: the layout's "Log out" button is a small form.
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("team/audit/", include("audit.urls")),
    path("team/", include("accounts.urls")),
    path("gallery/", include("gallery.urls")),
    path("usage/", include("usage.urls")),
    path("", include("studio.urls")),
]

handler404 = "studio.views.page_not_found"
handler500 = "studio.views.server_error"
