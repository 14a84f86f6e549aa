"""Enquiry URLs under /enquiries/."""

from django.urls import path

from clinic.enquiries import views

app_name = "enquiries"
urlpatterns = [
    path("query/", views.query_new, name="query-new"),
    path("second-opinion/", views.second_opinion_new, name="second-opinion-new"),
    path("inbox/", views.inbox, name="inbox"),
    path("<int:enquiry_id>/", views.enquiry_detail, name="detail"),
    path("<int:enquiry_id>/reply/", views.enquiry_reply, name="reply"),
    path("<int:enquiry_id>/assign/", views.enquiry_assign, name="assign"),
    path("<int:enquiry_id>/close/", views.enquiry_close, name="close"),
    path("<int:enquiry_id>/opinion/", views.second_opinion_answer, name="opinion"),
    path("documents/<int:document_id>/", views.document_download, name="document"),
]
