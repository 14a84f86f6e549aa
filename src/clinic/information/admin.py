"""Stories and news in the admin."""

from django.contrib import admin

from clinic.information.models import NewsItem, Story


class ArticleAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Shared list and edit settings for stories and news."""

    list_display = ("title", "published_on", "is_published", "is_example")
    list_filter = ("is_published", "is_example")
    search_fields = ("title", "summary", "body")
    prepopulated_fields = {"slug": ("title",)}
    date_hierarchy = "published_on"


admin.site.register(Story, ArticleAdmin)
admin.site.register(NewsItem, ArticleAdmin)
