"""Directory URLs: /sites/, /find-a-doctor/, /practitioners/."""

from django.urls import path

from clinic.directory import views

app_name = "directory"
urlpatterns = [
    path("sites/", views.site_list, name="site-list"),
    path("sites/<slug:slug>/", views.site_detail, name="site-detail"),
    path("find-a-doctor/", views.find_doctor, name="find-doctor"),
    path("practitioners/<slug:slug>/", views.practitioner_detail, name="practitioner-detail"),
]
