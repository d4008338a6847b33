from core.hookspecs import hookimpl
from core.plugins import PluginConfigError, build_plugin_host

import pytest


def test_a_plugin_route_without_its_declaration_stops_start_up(tmp_path):
    from litestar import get

    from web.plugin_routes import plugin_route_handlers

    @get("/api/v1/loose/hello")
    async def loose() -> dict:
        return {}

    class Loose:
        @hookimpl
        def register_routes(self):
            return [loose]

    host = build_plugin_host(plugins_toml=tmp_path / "none.toml", extra=[("loose", Loose())], discover=False)
    with pytest.raises(PluginConfigError, match="phải khai báo"):
        plugin_route_handlers(host)
