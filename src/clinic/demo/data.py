"""The demonstration data. Everything here is made up except the six sites' public addresses.

Telephone numbers come from the range Ofcom keeps for drama and examples (020 7946 0000 to
0999), so none reaches a real line.
"""

from __future__ import annotations

from datetime import date, time
from typing import Final

DEMO_ADMIN_EMAIL: Final = "admin@example.org"
DEMO_ADMIN_PASSWORD: Final = "clinic-demo-admin"  # noqa: S105 - a published demo sign-in
# Published demo sign-ins: (email, password, full name, role, practitioner slug or "").
DEMO_STAFF: Final = (
    ("reception@example.org", "clinic-demo-reception", "Rita Reception", "reception", ""),
    ("clinician@example.org", "clinic-demo-clinician", "Amara Okafor", "clinician", "amara-okafor"),
)
DEMO_PATIENT_EMAIL: Final = "patient@example.org"
DEMO_PATIENT_PASSWORD: Final = "clinic-demo-patient"  # noqa: S105 - a published demo sign-in
# The demo staff accounts share this authenticator key (base32), published so anyone trying
# the demo can add it to an authenticator app; `manage.py demo_totp_code` prints the code.
DEMO_TOTP_KEY_HEX: Final = "3132333435363738393031323334353637383930"
# Made-up patients. NHS numbers are synthetic: made up, 999-prefixed as is usual for test
# data, with valid check digits: (given, family, date of birth, NHS number, hospital number).
DEMO_PATIENTS: Final = (
    ("Patricia", "Demo", date(1974, 5, 12), "9990000018", "DC0000001"),
    ("Oliver", "Example", date(1988, 11, 3), "9990000026", "DC0000002"),
    ("Grace", "Sample", date(2009, 2, 20), "9990000034", "DC0000003"),
)

# The made-up GP practice and referrer of every demo patient, so clinic letters have
# addressees: (field, value) pairs set on the patient record.
DEMO_GP_AND_REFERRER: Final = (
    ("gp_name", "Dr Gita Madeup"),
    ("gp_practice", "Example Street Surgery (made up)"),
    ("gp_address", "1 Example Street, London N1 0AA"),
    ("gp_email", "surgery@example.org"),
    ("referrer_name", "Dr Rowan Example"),
    ("referrer_organisation", "Example General Hospital neurology (made up)"),
    ("referrer_address", "2 Sample Road, London SE1 0ZZ"),
    ("address", "3 Demo Lane, London"),
    ("postcode", "E1 0AA"),
)

# Recalls for the made-up patients: hospital number, service, due in this many days from the
# day the demo is loaded (negative: overdue), reason.
DEMO_RECALLS: Final = (
    ("DC0000002", "botulinum-toxin-clinic", -3, "Re-injection due (made-up example)"),
    ("DC0000003", "follow-up", 21, "Review after physiotherapy (made-up example)"),
)

# Services: slug, name, summary.
SERVICES: Final = (
    ("new-consultation", "New consultation", "A first assessment by a dystonia specialist."),
    ("follow-up", "Follow-up", "A review of how you are and how treatment is working."),
    (
        "botulinum-toxin-clinic",
        "Botulinum toxin clinic",
        "Injections of botulinum toxin into the muscles that cause your dystonia.",
    ),
    ("emg", "EMG", "Electromyography to study muscle activity and guide injections."),
    ("mri-ct", "MRI/CT", "Brain and neck imaging to look for a cause."),
    (
        "dbs-programming",
        "DBS programming",
        "Adjusting the settings of a deep brain stimulator.",
    ),
    ("physiotherapy", "Physiotherapy", "Exercises and retraining for posture and movement."),
    (
        "speech-therapy",
        "Speech and language therapy",
        "Help with speech, voice, chewing and swallowing.",
    ),
    (
        "second-opinion",
        "Second opinion",
        "A specialist review of a diagnosis or treatment plan made elsewhere.",
    ),
)

# Specialties: slug, name, what one practitioner is called.
SPECIALTIES: Final = (
    ("neurology", "Neurology", "Neurologist"),
    ("clinical-neurophysiology", "Clinical neurophysiology", "Neurophysiologist"),
    ("neurosurgery", "Neurosurgery", "Neurosurgeon"),
    ("specialist-nursing", "Specialist nursing", "Nurse injector"),
    ("physiotherapy", "Physiotherapy", "Physiotherapist"),
    ("speech-and-language-therapy", "Speech and language therapy", "Speech and language therapist"),
)

WEEKDAYS: Final = (0, 1, 2, 3, 4)
WEEKDAY_HOURS: Final = (time(8, 0), time(18, 0))
SATURDAY_HOURS: Final = (time(9, 0), time(13, 0))

# slug, name, specialist unit?, address line, postcode, telephone, open Saturday?, services
SITES: Final = (
    (
        "london-neurosurgery-partnership",
        "London Neurosurgery Partnership",
        True,
        "78 Harley Street",
        "W1G 7HJ",
        "020 7946 0100",
        True,
        (
            "new-consultation",
            "follow-up",
            "botulinum-toxin-clinic",
            "emg",
            "dbs-programming",
            "physiotherapy",
            "speech-therapy",
            "second-opinion",
        ),
    ),
    (
        "the-harley-street-clinic",
        "The Harley Street Clinic",
        False,
        "35 Weymouth Street",
        "W1G 8BJ",
        "020 7946 0200",
        False,
        ("new-consultation", "follow-up", "botulinum-toxin-clinic", "mri-ct"),
    ),
    (
        "the-portland-hospital",
        "The Portland Hospital",
        False,
        "205-209 Great Portland Street",
        "W1W 5AH",
        "020 7946 0300",
        False,
        ("new-consultation", "follow-up", "physiotherapy", "speech-therapy"),
    ),
    (
        "the-lister-hospital",
        "The Lister Hospital",
        False,
        "Chelsea Bridge Road",
        "SW1W 8RH",
        "020 7946 0400",
        True,
        ("follow-up", "botulinum-toxin-clinic", "mri-ct", "physiotherapy"),
    ),
    (
        "the-shard-outpatients",
        "The Shard Outpatients",
        False,
        "The Shard, 32 St Thomas Street",
        "SE1 9BS",
        "020 7946 0500",
        False,
        ("new-consultation", "follow-up", "botulinum-toxin-clinic", "second-opinion"),
    ),
    (
        "london-bridge-hospital",
        "London Bridge Hospital",
        False,
        "27 Tooley Street",
        "SE1 2PR",
        "020 7946 0600",
        False,
        ("new-consultation", "emg", "mri-ct", "dbs-programming"),
    ),
)

LNP = "london-neurosurgery-partnership"
HSC = "the-harley-street-clinic"
PORTLAND = "the-portland-hospital"
LISTER = "the-lister-hospital"
SHARD = "the-shard-outpatients"
LBH = "london-bridge-hospital"

# slug, prefix, given, family, job title, specialty, interests, sites, services
PRACTITIONERS: Final = (
    (
        "amara-okafor",
        "Dr",
        "Amara",
        "Okafor",
        "Consultant neurologist",
        "neurology",
        "Cervical dystonia, botulinum toxin, deep brain stimulation selection",
        (LNP, HSC, SHARD),
        ("new-consultation", "follow-up", "botulinum-toxin-clinic", "second-opinion"),
    ),
    (
        "henry-castellan",
        "Dr",
        "Henry",
        "Castellan",
        "Consultant neurologist",
        "neurology",
        "Blepharospasm, Meige syndrome, hemifacial spasm",
        (LNP, LISTER),
        ("new-consultation", "follow-up", "botulinum-toxin-clinic"),
    ),
    (
        "priya-raman",
        "Dr",
        "Priya",
        "Raman",
        "Consultant paediatric neurologist",
        "neurology",
        "Dystonia in children and young people, genetic and dopa-responsive dystonia",
        (PORTLAND, LNP),
        ("new-consultation", "follow-up", "second-opinion"),
    ),
    (
        "tomas-lindqvist",
        "Dr",
        "Tomas",
        "Lindqvist",
        "Consultant clinical neurophysiologist",
        "clinical-neurophysiology",
        "EMG for muscle selection, tremor analysis",
        (LNP, LBH),
        ("emg",),
    ),
    (
        "eleanor-whitfield",
        "Ms",
        "Eleanor",
        "Whitfield",
        "Consultant neurosurgeon",
        "neurosurgery",
        "Deep brain stimulation, selective peripheral denervation",
        (LBH, LNP),
        ("new-consultation", "follow-up", "dbs-programming"),
    ),
    (
        "grace-mensah",
        "",
        "Grace",
        "Mensah",
        "Clinical nurse specialist (botulinum toxin)",
        "specialist-nursing",
        "Nurse-led toxin clinics, ultrasound-guided injection",
        (LNP, HSC, LISTER, SHARD),
        ("botulinum-toxin-clinic", "follow-up"),
    ),
    (
        "daniel-hughes",
        "",
        "Daniel",
        "Hughes",
        "Specialist neurological physiotherapist",
        "physiotherapy",
        "Posture retraining for cervical dystonia, task-specific dystonia",
        (LNP, PORTLAND, LISTER),
        ("physiotherapy",),
    ),
    (
        "sofia-marchetti",
        "",
        "Sofia",
        "Marchetti",
        "Specialist speech and language therapist",
        "speech-and-language-therapy",
        "Laryngeal dystonia, swallowing after toxin injections",
        (LNP, PORTLAND),
        ("speech-therapy",),
    ),
)

FICTIONAL_BIOGRAPHY: Final = (
    "{name} is a fictional practitioner, made up to demonstrate this software. "
    "The name, biography and clinical interests do not describe a real person."
)

# slug, title, summary, body, published on
STORIES: Final = (
    (
        "back-to-the-drawing-board",
        "Back to the drawing board",
        "An architect describes learning to work with cervical dystonia.",
        "For two years I thought my stiff neck came from long hours at the desk. "
        "My head kept turning to the left, and holding it straight took all my effort.\n\n"
        "At my first appointment the neurologist watched me walk, write and sit, and "
        "asked about my family. The diagnosis was cervical dystonia. Injections every few "
        "months, and exercises from the physiotherapist, mean I can work full days again.",
        date(2026, 9, 14),
    ),
    (
        "finding-my-voice",
        "Finding my voice",
        "A teacher on laryngeal dystonia and speech therapy.",
        "My voice started to break and strain in the classroom. After several "
        "appointments elsewhere, the team here diagnosed laryngeal dystonia.\n\n"
        "Treatment and speech therapy have made teaching possible again.",
        date(2026, 6, 2),
    ),
)

NEWS: Final = (
    (
        "saturday-toxin-clinics",
        "Saturday botulinum toxin clinics",
        "Toxin clinics now also run on Saturday mornings at two sites.",
        "To make repeat injections easier to fit around work and school, botulinum toxin "
        "clinics now run on Saturday mornings at 78 Harley Street and at The Lister Hospital.",
        date(2026, 10, 20),
    ),
    (
        "dystonia-awareness-evening",
        "Dystonia awareness evening",
        "An evening of short talks for patients, families and carers.",
        "Our team will talk about diagnosis, treatment and research, with time for "
        "questions. Everyone is welcome.",
        date(2026, 8, 5),
    ),
)

# Scheduling examples (operational settings a unit would choose, not clinical facts):
# service slug: (minutes, buffer minutes, resource kind, bookable online).
SERVICE_SCHEDULES: Final = {
    "new-consultation": (45, 15, "consulting_room", True),
    "follow-up": (30, 10, "consulting_room", True),
    "botulinum-toxin-clinic": (30, 10, "injection_room", True),
    "emg": (60, 15, "emg_machine", False),
    "mri-ct": (45, 15, "scanner", False),
    "dbs-programming": (60, 15, "dbs_programmer", False),
    "physiotherapy": (45, 15, "therapy_room", True),
    "speech-therapy": (45, 15, "therapy_room", True),
    "second-opinion": (60, 15, "consulting_room", False),
}
# Weekly sessions: (practitioner slug, site slug, weekday 0=Monday, start, end).
WORKING_PATTERNS: Final = (
    ("amara-okafor", LNP, 0, time(9, 0), time(13, 0)),
    ("amara-okafor", LNP, 2, time(13, 30), time(17, 30)),
    ("amara-okafor", HSC, 1, time(9, 0), time(13, 0)),
    ("amara-okafor", SHARD, 3, time(9, 0), time(13, 0)),
    ("henry-castellan", LNP, 1, time(13, 30), time(17, 30)),
    ("henry-castellan", LISTER, 3, time(9, 0), time(13, 0)),
    ("henry-castellan", LISTER, 5, time(9, 0), time(13, 0)),
    ("priya-raman", PORTLAND, 0, time(9, 0), time(13, 0)),
    ("priya-raman", LNP, 4, time(9, 0), time(13, 0)),
    ("tomas-lindqvist", LNP, 1, time(9, 0), time(13, 0)),
    ("tomas-lindqvist", LBH, 3, time(13, 30), time(17, 30)),
    ("eleanor-whitfield", LBH, 2, time(9, 0), time(13, 0)),
    ("eleanor-whitfield", LNP, 4, time(13, 30), time(17, 30)),
    ("grace-mensah", LNP, 0, time(13, 30), time(17, 30)),
    ("grace-mensah", HSC, 2, time(9, 0), time(13, 0)),
    ("grace-mensah", LISTER, 5, time(9, 0), time(13, 0)),
    ("grace-mensah", SHARD, 4, time(9, 0), time(13, 0)),
    ("daniel-hughes", LNP, 1, time(9, 0), time(13, 0)),
    ("daniel-hughes", PORTLAND, 3, time(9, 0), time(13, 0)),
    ("daniel-hughes", LISTER, 4, time(13, 30), time(17, 30)),
    ("sofia-marchetti", LNP, 2, time(9, 0), time(13, 0)),
    ("sofia-marchetti", PORTLAND, 4, time(9, 0), time(13, 0)),
)
PATTERNS_VALID_FROM: Final = date(2026, 1, 1)
