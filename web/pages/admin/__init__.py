"""The organisers' administration pages: people, audiences, units, users and API keys, plugins,
notifications, audit log. Each handler declares ``opt={"access": "staff", "page": True}`` and
hands the work to one service."""


def admin_page_handlers() -> list:
    from web.pages.admin.audiences import AUDIENCE_PAGES
    from web.pages.admin.audit import AUDIT_PAGES
    from web.pages.admin.notifications import NOTIFICATION_PAGES
    from web.pages.admin.people import PEOPLE_PAGES
    from web.pages.admin.plugins import PLUGIN_PAGES
    from web.pages.admin.units import UNIT_PAGES
    from web.pages.admin.users import USER_PAGES

    return [*PEOPLE_PAGES, *AUDIENCE_PAGES, *UNIT_PAGES, *USER_PAGES, *PLUGIN_PAGES, *NOTIFICATION_PAGES, *AUDIT_PAGES]
