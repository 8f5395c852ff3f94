from django.urls import path

from plans import revocation_views, views

app_name = "plans"
urlpatterns = [
    path("", views.plan_list, name="list"),
    path("new/", views.plan_create, name="create"),
    path("teardown/", views.plan_teardown, name="teardown"),
    path("<int:pk>/", views.plan_detail, name="detail"),
    path("<int:pk>/approve/", views.plan_approve, name="approve"),
    path("<int:pk>/reject/", views.plan_reject, name="reject"),
    path("<int:pk>/apply/", views.plan_apply, name="apply"),
    path("jobs/", views.job_list, name="job_list"),
    path("jobs/<int:pk>/", views.job_detail, name="job_detail"),
    path("live-roles/", views.live_roles, name="live_roles"),
    path("offboard/<int:iam_user_pk>/", revocation_views.offboard, name="offboard"),
]
