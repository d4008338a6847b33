"""init, migrate and the migration check, from zero, on the database of this run."""

import asyncio
import contextlib
import os

import pytest

from tests.conftest import DATABASE_URL, ON_POSTGRES, _admin_async, _with_database, run_cli


@contextlib.contextmanager
def empty_database(tmp_path):
    """Environment for a brand-new, empty database (never the shared template)."""
    if not ON_POSTGRES:
        yield {"HOINGHI_VAR_DIR": str(tmp_path / "var"), "DATABASE_URL": ""}
        return
    name = f"hoinghi_empty_{os.getpid()}"
    asyncio.run(_admin_async(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    asyncio.run(_admin_async(f'CREATE DATABASE "{name}"'))
    try:
        yield {"DATABASE_URL": _with_database(DATABASE_URL, name)}
    finally:
        asyncio.run(_admin_async(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


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
