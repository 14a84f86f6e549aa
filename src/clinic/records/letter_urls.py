"""Letter URLs, included in records/urls.py under the records namespace: clinicians' pages
under /records/, the patient's own copies under /my/."""

from django.urls import URLPattern, path

from clinic.records import letter_views

urlpatterns: list[URLPattern] = [
    path(
        "records/encounters/<int:encounter_id>/letters/new/",
        letter_views.letter_new,
        name="letter-new",
    ),
    path("records/letters/<int:letter_id>/", letter_views.letter_detail, name="letter-detail"),
    path("records/letters/<int:letter_id>/pdf/", letter_views.letter_pdf, name="letter-pdf"),
    path("records/letters/<int:letter_id>/send/", letter_views.letter_send, name="letter-send"),
    path("my/letters/<int:letter_id>/", letter_views.my_letter, name="my-letter"),
    path("my/letters/<int:letter_id>/pdf/", letter_views.my_letter_pdf, name="my-letter-pdf"),
]
