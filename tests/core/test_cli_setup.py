"""init, migrate and the migration check, from zero, on the database of this run."""

import os
import subprocess
import sys
import time

import httpx
import pytest

from tests.conftest import PROJECT_ROOT, empty_database, run_cli
from tests.servers import free_port


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


@pytest.mark.timeout(120)
def test_serve_says_in_vietnamese_which_address_to_open(tmp_path):
    """After `make demo` the newcomer opens the printed address: serve prints it in their language
    before the server's own (English) log, and the address answers."""
    with empty_database(tmp_path) as env:
        env = {**os.environ, **env, "HOINGHI_VAR_DIR": str(tmp_path / "var")}
        run_cli("init", "--non-interactive", env=env)
        port = free_port()
        output = tmp_path / "serve.log"
        with output.open("w") as log:
            process = subprocess.Popen([sys.executable, "-m", "core.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
                                       env=env, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT)
            try:
                deadline = time.monotonic() + 90
                while time.monotonic() < deadline:
                    try:
                        if httpx.get(f"http://127.0.0.1:{port}/login", timeout=2).status_code == 200:
                            break
                    except httpx.HTTPError:
                        time.sleep(0.3)
                else:
                    raise AssertionError(output.read_text())
            finally:
                process.terminate()
                process.wait(timeout=30)
        assert f"Mở http://127.0.0.1:{port} trong trình duyệt để bắt đầu (dừng: Ctrl+C)." in output.read_text()
