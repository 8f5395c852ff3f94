from django.urls import path

from core import views

app_name = "core"
urlpatterns = [
    path("confirm-password/", views.confirm_password, name="sudo"),
]
