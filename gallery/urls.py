from django.urls import path

from gallery import album_views, share_views, views

app_name = "gallery"

urlpatterns = [
    path("", views.index, name="index"),
    path("bulk/", views.bulk, name="bulk"),
    path("items/<str:asset_id>/", views.detail, name="detail"),
    path("items/<str:asset_id>/favourite/", views.toggle_favourite, name="toggle_favourite"),
    path("items/<str:asset_id>/album/", views.add_to_album, name="add_to_album"),
    path("items/<str:asset_id>/visibility/", views.change_visibility, name="change_visibility"),
    path("items/<str:asset_id>/share/", views.share_asset, name="share_asset"),
    path("items/<str:asset_id>/delete/", views.delete_asset, name="delete_asset"),
    path("links/<int:link_id>/revoke/", views.revoke_share, name="revoke_share"),
    path("albums/", album_views.album_list, name="albums"),
    path("albums/new/", album_views.album_create, name="album_create"),
    path("albums/<str:album_id>/", album_views.album_detail, name="album"),
    path("albums/<str:album_id>/edit/", album_views.album_edit, name="album_edit"),
    path("albums/<str:album_id>/delete/", album_views.album_delete, name="album_delete"),
    path("albums/<str:album_id>/share/", album_views.album_share, name="album_share"),
    path("albums/<str:album_id>/items/<str:asset_id>/", album_views.album_item_action, name="album_item"),
    path("assets/<str:asset_id>/file", views.asset_file, name="asset_file"),
    path("assets/<str:asset_id>/thumbnail", views.asset_thumbnail, name="asset_thumbnail"),
    path("inputs/<str:token>", views.signed_asset_file, name="signed_asset_file"),
    # Share links: no login, the token is the permission.
    path("s/<str:token>/", share_views.shared, name="shared"),
    path("s/<str:token>/items/<str:asset_id>/", share_views.shared_item, name="shared_item"),
    path("s/<str:token>/files/<str:asset_id>", share_views.shared_file, name="shared_file"),
    path("s/<str:token>/thumbnails/<str:asset_id>", share_views.shared_thumbnail, name="shared_thumbnail"),
]

