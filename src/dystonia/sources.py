"""Short names of the clinical sources the core cites, as in shared/reference/clinical.md.

Each rule's result carries one of these, so a clinician can check it against the source.
"""

from typing import Final

ALBANESE_2013: Final = (
    "Albanese A et al. Phenomenology and classification of dystonia: a consensus update. "
    "Mov Disord 2013;28:863-873"
)
GENEREVIEWS_DYSTONIA: Final = "GeneReviews: Hereditary Dystonia Overview (NBK1155)"
GENEREVIEWS_GCH1: Final = "GeneReviews: GTP Cyclohydrolase 1-Deficient DRD (NBK1508)"
DYSTONIA_UK_GPG: Final = "Dystonia UK Good Practice Guide"
EFNS_2011: Final = "Albanese A et al. EFNS guidelines on dystonia. Eur J Neurol 2011;18:5-18"
BMJ_BEST_PRACTICE: Final = "BMJ Best Practice: dystonia"
EASL_2012: Final = "EASL Clinical Practice Guidelines: Wilson's disease (2012)"
LEIPZIG_SCORE: Final = "Leipzig score table (PMC6531646)"
ROBERTS_SCHILSKY: Final = "Roberts & Schilsky, AASLD Wilson disease guidance"
AASLD_AGE_WINDOW: Final = "AASLD Wilson disease guidance (age 3-55; via secondary summary)"
HARRISONS_KF: Final = "Harrison's Principles of Internal Medicine (Kayser-Fleischer rings)"
UPTODATE_RED_FLAGS: Final = "UpToDate: dystonia evaluation (via dystoniasupport 2011)"
NASA_AXIS: Final = "nasafordoctors.co.za dystonia series (axis I)"
WHO_ICD11_MAP: Final = "WHO ICD-11 MMS 2019-04 11To10MapToOneCategory"
ICD10_TABULAR: Final = (
    "ICD-10 (WHO 2019) and ICD-10-CM tabular lists, via shared/reference/fhir.md 2.1"
)
ICDLIST_CM: Final = "icdlist.com ICD-10-CM listing"
SNOMED_SYNTHEA: Final = "SNOMED CT 15802004 via Synthea value sets (shared/reference/fhir.md 2.1)"
VISUALDX_HFS: Final = "VisualDx: hemifacial spasm (SNOMED 13753008)"
HCCBUDDY_CM: Final = "HCCBuddy ICD-10-CM listing"
DE_WIKIPEDIA_WRITERS_CRAMP: Final = "de.wikipedia 'Schreibkrampf', citing WHO ICD-10 2019"
J_CLIN_MOV_DISORD_2016: Final = "Medical treatment of dystonia. J Clin Mov Disord 2016, table 1"
BURKE_1986: Final = "Burke RE et al. Neurology 1986;36:160 (trihexyphenidyl RCT)"
NEUROSURGERY_1994: Final = "Neurosurgery 1994;35:58 (PMID 7936153)"
BNN_2016: Final = "Marion MH et al. Pract Neurol 2016;16:288 (BNN botulinum toxin guidance)"
PROJECT_DECISION: Final = "Project decision, documented in docs/clinical-rules.md"
EASL_NCC_SECONDARY: Final = (
    "EASL Clinical Practice Guidelines: Wilson's disease (2012), non-caeruloplasmin copper, "
    "via a secondary summary (droracle)"
)
IUPAC_COPPER_ATOMIC_WEIGHT: Final = (
    "IUPAC standard atomic weight of copper, 63.546(3) (IUPAC 1997 table, reproduced in USP 28 "
    "'Atomic weights')"
)
MEDTRONIC_3387_3389_IFU: Final = (
    "Medtronic DBS Lead Kit 3387/3389 instructions for use (German edition), figure 23 "
    "'Ladungsdichte bei verschiedenen Parametereinstellungen' (manualslib.de/manual/945548, p. 112)"
)
MEDTRONIC_DBS_WARNINGS: Final = (
    "Medtronic DBS therapy labelling, warning 'Avoid excessive stimulation' "
    "(manualslib.fr/manual/694203, p. 7)"
)
BOSTON_VERCISE_PROGRAMMING: Final = (
    "Boston Scientific Vercise DBS Programming Manual 91053785-17, 'Stimulator Programmable "
    "Characteristics' (p. 20; manualslib.fr/manual/226478, p. 26)"
)
YIANNI_2004: Final = (
    "Yianni J et al. Failure of chronic pallidal stimulation in dystonic patients is a medical "
    "emergency. Neuromodulation 2004 (doi 10.1111/j.1525-1403.2004.04008.x)"
)
STATUS_DYSTONICUS_DBS_ABSTRACT: Final = (
    "Status dystonicus following deep brain stimulation surgery in DYT1 dystonia patients "
    "(conference abstract P01.227): presumed causes included sudden cessation of stimulation"
)
