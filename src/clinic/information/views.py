"""Public pages: home, about dystonia, stories, news, privacy and accessibility."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods, require_safe

from clinic.directory import selectors as directory
from clinic.enquiries.selfcheck_link import selfcheck_token
from clinic.information import selectors
from clinic.information.forms import SelfCheckForm
from clinic.information.pages import DYSTONIA_PAGES, information_page, neighbours
from dystonia.selfcheck import NOT_A_DIAGNOSIS, answers_from_document
from dystonia.selfcheck import self_check as run_self_check


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """The front door: what the unit does, the pages about dystonia, the sites, the news."""
    context = {
        "pages": DYSTONIA_PAGES,
        "sites": directory.sites_public(),
        "news": selectors.news_latest(limit=3),
        "stories": selectors.stories_latest(limit=2),
    }
    return render(request, "information/home.html", context)


@require_safe
def dystonia_index(request: HttpRequest) -> HttpResponse:
    """The list of pages about dystonia."""
    return render(request, "information/dystonia_index.html", {"pages": DYSTONIA_PAGES})


@require_safe
def dystonia_page(request: HttpRequest, slug: str) -> HttpResponse:
    """One page about dystonia."""
    page = information_page(slug)
    if page is None:
        raise Http404("No such page")
    previous, following = neighbours(page)
    context = {"page": page, "pages": DYSTONIA_PAGES, "previous": previous, "following": following}
    return render(request, page.template_name, context)


@require_safe
def story_list(request: HttpRequest) -> HttpResponse:
    """Published patient stories, newest first."""
    return render(request, "information/story_list.html", {"stories": selectors.stories_latest()})


@require_safe
def story_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """One patient story."""
    story = selectors.story_published(slug=slug)
    if story is None:
        raise Http404("No such story")
    return render(request, "information/article_detail.html", {"article": story, "kind": "story"})


@require_safe
def news_list(request: HttpRequest) -> HttpResponse:
    """Published news, newest first."""
    return render(request, "information/news_list.html", {"news": selectors.news_latest()})


@require_safe
def news_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """One news item."""
    item = selectors.news_published(slug=slug)
    if item is None:
        raise Http404("No such news item")
    return render(request, "information/article_detail.html", {"article": item, "kind": "news"})


@require_safe
def privacy(request: HttpRequest) -> HttpResponse:
    """The privacy and cookie notice."""
    return render(request, "information/privacy.html")


@require_safe
def accessibility(request: HttpRequest) -> HttpResponse:
    """The accessibility statement."""
    return render(request, "information/accessibility.html")


@require_http_methods(["GET", "POST"])
def self_check(request: HttpRequest) -> HttpResponse:
    """The symptom self-check: questions, then plain-language advice (never a diagnosis)."""
    form = SelfCheckForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        document = form.document()
        answers, urgent = answers_from_document(document)
        context = {
            "result": run_self_check(answers=answers, urgent=urgent),
            "not_a_diagnosis": NOT_A_DIAGNOSIS,
            "token": selfcheck_token(document),
        }
        return render(request, "information/self_check_result.html", context)
    status = 400 if form.is_bound else 200
    return render(request, "information/self_check.html", {"form": form}, status=status)
