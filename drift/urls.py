from django.urls import path

from drift import views

app_name = "drift"
urlpatterns = [
    path("", views.drift_page, name="page"),
    path("check/", views.drift_check_start, name="check"),
    path("findings/<int:pk>/adopt/", views.finding_adopt, name="adopt"),
]
