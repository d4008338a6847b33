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


async def test_units_are_found_from_ids_and_tokens(db):
    from core.services import tokens
    from tests.core.flows import make_conference, make_people
    from tests.factories import SYSTEM, make_tree
    from web.plugin_routes import unit_path_from

    tree = await make_tree()
    person = (await make_people(tree["commune_a1"], 1))[0]
    conference = await make_conference(tree)
    venue = conference["venues"][0]
    feed = await tokens.derived_token("calendar_feed", "person", person["id"])
    _, device = await tokens.issue_secret_token(SYSTEM, purpose="scanner_device", subject_type="venue", subject_id=venue["id"])
    province = tree["province"]["path"]
    assert await unit_path_from("unit_id", str(tree["commune_a1"]["id"])) == tree["commune_a1"]["path"]
    assert await unit_path_from("conference_id", str(conference["id"])) == province
    assert await unit_path_from("venue_id", str(venue["id"])) == province
    assert await unit_path_from("feed_token", feed) == tree["commune_a1"]["path"]
    assert await unit_path_from("device_token", device) == province
    assert await unit_path_from("feed_token", device) is None  # a device token is not a feed
    assert await unit_path_from("unit_id", "abc") is None
