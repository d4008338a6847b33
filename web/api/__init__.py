"""The JSON API under /api/v1: thin handlers over the core services."""


def api_route_handlers() -> list:
    """Controllers of the API areas added after the first ones (registered by web/app.py)."""
    from web.api.conference_parts import ConferencePartsController
    from web.api.notification_settings import NotificationSettingsController
    from web.api.people_import import PeopleImportController
    from web.api.reports import ReportsController
    from web.api.staff_admin import StaffAdminController
    from web.api.tokens import TokensController

    return [ConferencePartsController, PeopleImportController, ReportsController, TokensController, NotificationSettingsController,
            StaffAdminController]
