"""The organiser's conference pages, as one list for web/pages/routes.py."""

from web.pages.conferences import CONFERENCE_PAGES
from web.pages.dashboard import DASHBOARD_PAGES
from web.pages.rollcall import ROLLCALL_PAGES

CONFERENCE_AREA_PAGES = [*DASHBOARD_PAGES, *CONFERENCE_PAGES, *ROLLCALL_PAGES]
