from django.urls import path

from gallery import views

app_name = "gallery"

urlpatterns = [
    path("", views.index, name="index"),
    path("assets/<str:asset_id>/file", views.asset_file, name="asset_file"),
    path("assets/<str:asset_id>/thumbnail", views.asset_thumbnail, name="asset_thumbnail"),
    path("inputs/<str:token>", views.signed_asset_file, name="signed_asset_file"),
]
