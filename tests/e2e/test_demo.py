"""`hoinghi init` + `hoinghi demo` + `hoinghi tick`, as `make demo` runs them, on this run's database."""

import pytest

from tests.conftest import empty_database, run_cli

pytestmark = pytest.mark.timeout(300)


def test_demo_loads_once_and_the_housekeeping_runs(tmp_path):
    with empty_database(tmp_path) as env:
        run_cli("init", "--non-interactive", "--unit-name", "Tỉnh ủy Bắc Ninh", "--unit-code", "TU", env=env)
        demo = run_cli("demo", env=env)
        assert "Đã nạp dữ liệu mẫu: 9 đơn vị, 301 người." in demo.stdout
        assert "tochuc.hu-td" in demo.stdout
        tree = run_cli("unit", "tree", env=env).stdout
        assert tree.count("Đảng ủy") == 6 and "Huyện ủy Tiên Du" in tree
        assert "đã được nạp trước đó" in run_cli("demo", env=env).stdout
        tick = run_cli("tick", env=env)
        assert "Đã sinh 0 kỳ hội nghị mới" in tick.stdout
        assert "retention" not in run_cli("purge", env=env).stderr
