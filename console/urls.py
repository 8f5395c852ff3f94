from django.urls import path

from console import views

app_name = "console"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("console-users/", views.console_user_list, name="console_user_list"),
    path("console-users/new/", views.console_user_create, name="console_user_create"),
    path("console-users/<int:pk>/edit/", views.console_user_edit, name="console_user_edit"),
]
