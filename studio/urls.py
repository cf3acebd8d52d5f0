from django.urls import path

from studio import views, webhooks

app_name = "studio"

urlpatterns = [
    path("", views.home, name="home"),
    path("setup/", views.setup, name="setup"),
    path("generate/<path:model_id>/", views.generate, name="generate"),
    path("estimate/<path:model_id>/", views.estimate, name="estimate"),
    path("jobs/", views.job_list, name="job_list"),
    path("jobs/<str:generation_id>/card/", views.job_card, name="job_card"),
    path("jobs/<str:generation_id>/cancel/", views.cancel_job, name="cancel_job"),
    path("jobs/<str:generation_id>/retry/", views.retry_job, name="retry_job"),
    path("fal/webhook/<str:token>/", webhooks.fal_webhook, name="fal_webhook"),
]
