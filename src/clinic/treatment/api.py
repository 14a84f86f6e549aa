"""Treatments over the JSON API (added in clinic/api.py): medication with its dose steps,
therapy referrals with their sessions, procedures, deep brain stimulation, and the pathway
advisor. Clinicians only, as on the pages: handlers parse and call the same services and
selectors, which check access and audit (channel API); their refusals answer in the one error
shape (403 or 404, 409, 422 naming the parameter), an unknown id 404. One router per part.
"""

from ninja import Router
from ninja.security import django_auth

from clinic.treatment import dbs_api, medication_api, therapy_api

router = Router(auth=django_auth)
router.add_router("", medication_api.router)
router.add_router("", therapy_api.router)
router.add_router("", dbs_api.router)
