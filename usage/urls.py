from django.urls import path

from usage import views

app_name = "usage"

urlpatterns = [
    path("", views.usage_page, name="usage"),
    path("export.csv", views.usage_csv, name="export_csv"),
    path("budgets/", views.budgets_page, name="budgets"),
    path("budgets/<str:username>/", views.set_person_budget, name="set_person_budget"),
    path("budgets/<str:username>/allowance/", views.grant_allowance, name="grant_allowance"),
    path("approvals/", views.approvals_page, name="approvals"),
    path("approvals/<str:generation_id>/approve/", views.approve, name="approve"),
    path("approvals/<str:generation_id>/deny/", views.deny, name="deny"),
]
