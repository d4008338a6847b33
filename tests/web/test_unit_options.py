"""web/pages/unit_options.py: the options of a unit choice, indented by depth, escaped, the chosen one selected."""

from web.pages.unit_options import unit_options

TREE = [{"id": 1, "name": "Tỉnh ủy Bắc Ninh", "depth": 0}, {"id": 7, "name": "Thị ủy <Quế Võ>", "depth": 1},
        {"id": 12, "name": "Xã Phù Lãng", "depth": 2}]


def test_options_are_indented_below_the_first_unit_and_escaped():
    assert unit_options(TREE) == ('<option value="1">Tỉnh ủy Bắc Ninh</option><option value="7">· Thị ủy &lt;Quế Võ&gt;</option>'
                                  '<option value="12">· · Xã Phù Lãng</option>')


def test_the_chosen_unit_is_selected_whether_given_as_an_id_or_as_typed_text():
    for chosen in (12, "12"):
        html = unit_options(TREE, chosen)
        assert html.count(" selected") == 1 and '<option value="12" selected>' in html


def test_no_choice_and_units_without_depth():
    assert " selected" not in unit_options(TREE, "")
    assert unit_options([{"id": 3, "name": "Ban Tuyên giáo"}], 3) == '<option value="3" selected>Ban Tuyên giáo</option>'
    assert unit_options([]) == ""


def test_the_administration_pages_choices_indent_by_their_level_and_show_the_code():
    choices = [{"id": 1, "name": "Tỉnh ủy", "short_code": "TU", "level": 0}, {"id": 5, "name": "Xã A", "short_code": "X-A", "level": 2}]
    assert unit_options(choices, 5, marker="— ", with_code=True) == (
        '<option value="1">Tỉnh ủy (TU)</option><option value="5" selected>— — Xã A (X-A)</option>')
