"""Scheduling URLs under /appointments/."""

from django.urls import path, re_path

from clinic.scheduling import (
    feed_views,
    follow_up_views,
    recall_views,
    views,
    waitlist_views,
)

app_name = "scheduling"
urlpatterns = [
    path("book/", views.book, name="book"),
    path("book/confirm/", views.confirm, name="confirm"),
    path("day/", views.day_view, name="day"),
    path("week/", views.week_view, name="week"),
    path("<int:appointment_id>/", views.detail, name="detail"),
    path("<int:appointment_id>/cancel/", views.cancel, name="cancel"),
    path("recalls/", recall_views.recall_list, name="recalls"),
    path("recalls/new/<int:patient_id>/", recall_views.recall_new, name="recall-new"),
    path("recalls/<int:recall_id>/", recall_views.recall_detail, name="recall-detail"),
    path("recalls/<int:recall_id>/contact/", recall_views.recall_contact, name="recall-contact"),
    path("recalls/<int:recall_id>/close/", recall_views.recall_close, name="recall-close"),
    path("follow-up/new/<int:patient_id>/", follow_up_views.follow_up_new, name="follow-up-new"),
    path("follow-up/<int:follow_up_id>/end/", follow_up_views.follow_up_end, name="follow-up-end"),
    path("waitlist/", waitlist_views.waitlist_list, name="waitlist"),
    path("waitlist/join/", waitlist_views.waitlist_join, name="waitlist-join"),
    path(
        "waitlist/<int:entry_id>/withdraw/",
        waitlist_views.waitlist_withdraw,
        name="waitlist-withdraw",
    ),
    path("offers/<str:token>/", waitlist_views.offer, name="offer"),
    path("messages/unsent/", waitlist_views.unsent_messages, name="unsent-messages"),
    path("messages/<int:message_id>/retry/", waitlist_views.message_retry, name="message-retry"),
    path("feeds/", feed_views.feeds, name="feeds"),
    path("feeds/<int:feed_id>/revoke/", feed_views.feed_revoke, name="feed-revoke"),
    # Any token, even with slashes or newlines, reaches the view, so its refusal is audited.
    re_path(r"^feeds/(?P<token>[\s\S]+)\.ics\Z", feed_views.feed_ics, name="feed-ics"),
]
