"""Patient stories and news, managed by administrators in the admin."""

from __future__ import annotations

from django.db import models
from django.urls import reverse


class Article(models.Model):
    """What stories and news share: a title, a plain-text body, a publication date."""

    slug = models.SlugField(max_length=100, unique=True)
    title = models.CharField(max_length=200)
    summary = models.CharField(max_length=300)
    body = models.TextField(help_text="Plain text; a blank line starts a new paragraph.")
    published_on = models.DateField()
    is_published = models.BooleanField(default=True)
    is_example = models.BooleanField(
        default=False, help_text="Demonstration content: the page says it is an example."
    )

    class Meta:
        abstract = True
        ordering = ("-published_on", "title")

    def __str__(self) -> str:
        return self.title


class Story(Article):
    """A patient's account of living with dystonia, shared with their consent."""

    class Meta(Article.Meta):
        verbose_name_plural = "patient stories"
        verbose_name = "patient story"

    def get_absolute_url(self) -> str:
        return reverse("information:story-detail", kwargs={"slug": self.slug})


class NewsItem(Article):
    """News from the unit."""

    class Meta(Article.Meta):
        verbose_name = "news item"

    def get_absolute_url(self) -> str:
        return reverse("information:news-detail", kwargs={"slug": self.slug})
