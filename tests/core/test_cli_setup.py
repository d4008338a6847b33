"""init, migrate and the migration check, from zero, on the database of this run."""

from tests.conftest import ON_POSTGRES, run_cli


def _fresh_env(tmp_path) -> dict:
    if ON_POSTGRES:
        return {}  # the template fixture already proves migration from zero on PostgreSQL
    return {"HOINGHI_VAR_DIR": str(tmp_path / "var"), "DATABASE_URL": ""}


def test_init_is_idempotent_and_prints_the_admin_once(tmp_path, template_database):
    if ON_POSTGRES:
        env = {"DATABASE_URL": template_database["url"]}
    else:
        env = _fresh_env(tmp_path)
    first = run_cli("init", "--non-interactive", "--unit-name", "Tỉnh ủy Thử", "--unit-code", "TT", env=env)
    if not ON_POSTGRES:
        assert "Mật khẩu (chỉ hiện một lần)" in first.stdout
        second = run_cli("init", "--non-interactive", env=env)
        assert "đã được khởi tạo" in second.stdout
    tree = run_cli("unit", "tree", env=env)
    assert "Tỉnh ủy" in tree.stdout


def test_cli_errors_are_sentences_not_tracebacks(tmp_path):
    env = _fresh_env(tmp_path) if not ON_POSTGRES else {}
    if ON_POSTGRES:
        return
    run_cli("init", "--non-interactive", env=env)
    result = run_cli("unit", "add", "--name", "X", "--code", "X", "--kind", "commune", "--parent", "NOPE", env=env, check=False)
    assert result.returncode == 2
    assert "Không có đơn vị mã 'NOPE'" in result.stderr
    assert "Traceback" not in result.stderr


def test_migrations_match_the_tables(template_database):
    if ON_POSTGRES:
        env = {"DATABASE_URL": template_database["url"]}
    else:
        env = {"HOINGHI_VAR_DIR": str(template_database["path"].parent), "DATABASE_URL": ""}
    result = run_cli("migrate", "--check", env=env, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "khớp" in result.stdout
