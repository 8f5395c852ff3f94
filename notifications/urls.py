from django.urls import path

from notifications import views

app_name = "notifications"
urlpatterns = [
    path("deliveries/", views.delivery_list, name="delivery_list"),
    path("preferences/", views.preferences, name="preferences"),
]
