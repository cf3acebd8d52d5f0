from django.urls import path

from gallery import views

app_name = "gallery"

urlpatterns = [
    path("", views.index, name="index"),
    path("bulk/", views.bulk, name="bulk"),
    path("items/<str:asset_id>/", views.detail, name="detail"),
    path("items/<str:asset_id>/favourite/", views.toggle_favourite, name="toggle_favourite"),
    path("items/<str:asset_id>/album/", views.add_to_album, name="add_to_album"),
    path("items/<str:asset_id>/delete/", views.delete_asset, name="delete_asset"),
    path("assets/<str:asset_id>/file", views.asset_file, name="asset_file"),
    path("assets/<str:asset_id>/thumbnail", views.asset_thumbnail, name="asset_thumbnail"),
    path("inputs/<str:token>", views.signed_asset_file, name="signed_asset_file"),
]
