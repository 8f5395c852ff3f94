from django.urls import path

from memberships import views

app_name = "memberships"
urlpatterns = []
