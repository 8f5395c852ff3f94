from django.urls import path

from memberships import views

app_name = "memberships"
urlpatterns = [
    path("", views.membership_list, name="list"),
    path("add/", views.membership_add, name="add"),
    path("<int:pk>/remove/", views.membership_remove, name="remove"),
    path("matrix/", views.matrix, name="matrix"),
    path("iam-users/", views.iam_user_list, name="iam_user_list"),
    path("iam-users/suggestions/", views.iam_user_suggestions, name="iam_user_suggestions"),
    path("iam-users/new/", views.iam_user_create, name="iam_user_create"),
    path("iam-users/<int:pk>/", views.iam_user_detail, name="iam_user_detail"),
    path("iam-users/<int:pk>/edit/", views.iam_user_edit, name="iam_user_edit"),
    path("iam-users/<int:pk>/delete/", views.iam_user_delete, name="iam_user_delete"),
]
