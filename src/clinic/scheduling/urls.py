"""Scheduling URLs under /appointments/."""

from django.urls import path

from clinic.scheduling import views

app_name = "scheduling"
urlpatterns = [
    path("book/", views.book, name="book"),
    path("book/confirm/", views.confirm, name="confirm"),
    path("day/", views.day_view, name="day"),
    path("week/", views.week_view, name="week"),
    path("<int:appointment_id>/", views.detail, name="detail"),
    path("<int:appointment_id>/cancel/", views.cancel, name="cancel"),
]
