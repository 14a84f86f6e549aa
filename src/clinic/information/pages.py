"""The public pages about dystonia, in reading order."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class InformationPage:
    """One page under /dystonia/; its text lives in information/dystonia/<slug>.html."""

    slug: str
    title: str
    summary: str

    @property
    def template_name(self) -> str:
        return f"information/dystonia/{self.slug}.html"


DYSTONIA_PAGES: tuple[InformationPage, ...] = (
    InformationPage(
        "what-is-dystonia",
        "What is dystonia?",
        "A movement disorder in which muscles contract involuntarily, causing twisting, "
        "repetitive movements or abnormal postures.",
    ),
    InformationPage(
        "types",
        "Types of dystonia",
        "Focal, segmental, multifocal, generalised and hemidystonia, and the named forms "
        "such as cervical dystonia and blepharospasm.",
    ),
    InformationPage(
        "symptoms",
        "Symptoms and when to see a doctor",
        "What dystonia can feel and look like, and when to seek advice.",
    ),
    InformationPage(
        "causes",
        "Causes and associated conditions",
        "Inherited and acquired causes, and conditions such as Parkinson's, Huntington's "
        "and Wilson's disease.",
    ),
    InformationPage(
        "diagnosis",
        "How dystonia is diagnosed",
        "History and family history, examination, blood and urine tests, MRI or CT and "
        "electromyography.",
    ),
    InformationPage(
        "treatments",
        "Treatments",
        "Medication, botulinum toxin injections, physiotherapy and speech therapy, deep "
        "brain stimulation and selective denervation surgery.",
    ),
    InformationPage(
        "outlook",
        "Outlook",
        "Dystonia is usually long-term, but it is not always progressive, and some focal "
        "dystonias go into remission.",
    ),
)

_BY_SLUG = {page.slug: page for page in DYSTONIA_PAGES}


def information_page(slug: str) -> InformationPage | None:
    """The page with this slug, or ``None``."""
    return _BY_SLUG.get(slug)


def neighbours(page: InformationPage) -> tuple[InformationPage | None, InformationPage | None]:
    """The pages before and after this one in reading order."""
    index = DYSTONIA_PAGES.index(page)
    previous = DYSTONIA_PAGES[index - 1] if index > 0 else None
    following = DYSTONIA_PAGES[index + 1] if index + 1 < len(DYSTONIA_PAGES) else None
    return previous, following
