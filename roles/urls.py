from django.urls import path

from roles import views

app_name = "roles"
urlpatterns = [
    path("", views.role_list, name="list"),
    path("new/", views.role_create, name="create"),
    path("<int:pk>/", views.role_detail, name="detail"),
    path("<int:pk>/edit/", views.role_edit, name="edit"),
    path("<int:pk>/delete/", views.role_delete, name="delete"),
    path("<int:pk>/policies/new/", views.policy_create, name="policy_create"),
    path("<int:pk>/policies/<int:policy_pk>/edit/", views.policy_edit, name="policy_edit"),
    path("<int:pk>/policies/<int:policy_pk>/delete/", views.policy_delete, name="policy_delete"),
]
