"""The people room, under /team/. The login page itself stays at /login/ (atelier.urls)."""

from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("", views.team, name="team"),
    path("add/", views.add_person, name="add_person"),
    path("people/<str:username>/role/", views.change_role, name="change_role"),
    path("people/<str:username>/deactivate/", views.deactivate_person, name="deactivate_person"),
    path("people/<str:username>/reactivate/", views.reactivate_person, name="reactivate_person"),
    path("people/<str:username>/link/", views.new_link, name="new_link"),
    path("me/", views.my_settings, name="my_settings"),
    path("password/", views.change_password, name="change_password"),
    path("language/", views.set_language, name="set_language"),
    path("welcome/<uidb64>/<token>/", views.set_password, name="set_password"),
]
