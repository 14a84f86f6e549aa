"""Public information URLs."""

from django.urls import path

from clinic.information import views

app_name = "information"
urlpatterns = [
    path("", views.home, name="home"),
    path("dystonia/", views.dystonia_index, name="dystonia-index"),
    path("dystonia/<slug:slug>/", views.dystonia_page, name="dystonia-page"),
    path("stories/", views.story_list, name="story-list"),
    path("stories/<slug:slug>/", views.story_detail, name="story-detail"),
    path("news/", views.news_list, name="news-list"),
    path("news/<slug:slug>/", views.news_detail, name="news-detail"),
    path("self-check/", views.self_check, name="self-check"),
    path("privacy/", views.privacy, name="privacy"),
    path("accessibility/", views.accessibility, name="accessibility"),
]
