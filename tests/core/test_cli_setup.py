"""init, migrate and the migration check, from zero, on the database of this run."""

import pytest

from tests.conftest import empty_database, run_cli


@pytest.mark.timeout(180)
def test_init_from_zero_is_idempotent_and_prints_the_admin_once(tmp_path):
    with empty_database(tmp_path) as env:
        first = run_cli("init", "--non-interactive", "--unit-name", "Tỉnh ủy Thử", "--unit-code", "TT", env=env)
        assert "Mật khẩu (chỉ hiện một lần)" in first.stdout
        second = run_cli("init", "--non-interactive", env=env)
        assert "đã được khởi tạo" in second.stdout
        assert "Tỉnh ủy Thử [TT]" in run_cli("unit", "tree", env=env).stdout
        check = run_cli("migrate", "--check", env=env, check=False)
        assert check.returncode == 0 and "khớp" in check.stdout, check.stdout + check.stderr

        result = run_cli("unit", "add", "--name", "X", "--code", "X", "--kind", "commune", "--parent", "NOPE", env=env, check=False)
        assert result.returncode == 2
        assert "Không có đơn vị mã 'NOPE'" in result.stderr
        assert "Traceback" not in result.stderr
