"""Reads of published stories and news."""

from __future__ import annotations

from django.db.models import QuerySet

from clinic.information.models import NewsItem, Story


def stories_latest(*, limit: int | None = None) -> QuerySet[Story]:
    """Published stories, newest first."""
    stories = Story.objects.filter(is_published=True)
    return stories[:limit] if limit is not None else stories


def story_published(*, slug: str) -> Story | None:
    """The published story with this slug, or ``None``."""
    return Story.objects.filter(is_published=True, slug=slug).first()


def news_latest(*, limit: int | None = None) -> QuerySet[NewsItem]:
    """Published news, newest first."""
    news = NewsItem.objects.filter(is_published=True)
    return news[:limit] if limit is not None else news


def news_published(*, slug: str) -> NewsItem | None:
    """The published news item with this slug, or ``None``."""
    return NewsItem.objects.filter(is_published=True, slug=slug).first()
