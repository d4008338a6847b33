"""The built wheel installs into a clean venv and can init and migrate from there.

The clean venv sees the test venv's packages through a .pth path (nothing is downloaded), but
not its editable hoinghi: nested .pth files are not processed, so the wheel's own copy runs.
"""

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def _run(*args, **kwargs):
    result = subprocess.run(args, capture_output=True, text=True, timeout=240, **kwargs)
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.mark.sqlite_only
def test_wheel_installs_and_migrates_in_a_clean_venv(tmp_path):
    wheel_dir = tmp_path / "dist"
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheel_dir), str(PROJECT_ROOT))
    wheel = next(wheel_dir.glob("hoinghi-*.whl"))

    venv = tmp_path / "clean"
    _run(sys.executable, "-m", "venv", "--without-pip", str(venv))
    site_packages = Path(
        subprocess.check_output([venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True).strip()
    )
    (site_packages / "test-venv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run(sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--no-deps", "-q", str(wheel))

    workdir = tmp_path / "work"
    workdir.mkdir()
    env = {**os.environ, "HOINGHI_VAR_DIR": str(workdir / "var"), "DATABASE_URL": "", "PYTHONPATH": ""}
    env.pop("PICCOLO_CONF", None)
    where = _run(str(venv / "bin" / "python"), "-c", "import core, migrations; print(core.__file__, migrations.__file__)", cwd=workdir, env=env)
    assert str(PROJECT_ROOT) not in where.stdout, "the clean venv must run the wheel's copy"
    init = _run(str(venv / "bin" / "hoinghi"), "init", "--non-interactive", cwd=workdir, env=env)
    assert "Đã tạo đơn vị gốc" in init.stdout
    _run(str(venv / "bin" / "hoinghi"), "migrate", cwd=workdir, env=env)
    check = _run(str(venv / "bin" / "hoinghi"), "migrate", "--check", cwd=workdir, env=env)
    assert "khớp" in check.stdout
