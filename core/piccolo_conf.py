"""Piccolo configuration, selected by the CLI through PICCOLO_CONF=core.piccolo_conf.

Lives inside the package so an installed wheel can migrate.
"""

from piccolo.conf.apps import AppRegistry

from core.config import get_settings
from core.db import make_engine

DB = make_engine(get_settings())


def _apps() -> list[str]:
    apps = ["core.piccolo_app"]
    try:
        from core.plugins import installed_piccolo_apps
    except ImportError:  # the plugin manager arrives with the plugin contract
        return apps
    return apps + installed_piccolo_apps()


APP_REGISTRY = AppRegistry(apps=_apps())
