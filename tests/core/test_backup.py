import io
import json
import shutil
import tarfile

import pytest

from tests.conftest import run_cli

pytestmark = pytest.mark.sqlite_only


def _env(var_dir):
    return {"HOINGHI_VAR_DIR": str(var_dir), "DATABASE_URL": "", "HOINGHI_SECRET_KEY": ""}


def test_backup_and_restore_round_trip(tmp_path):
    var_dir = tmp_path / "var"
    env = _env(var_dir)
    run_cli("init", "--non-interactive", "--unit-code", "TU", env=env)
    run_cli("unit", "add", "--name", "Huyện ủy Tiên Du", "--code", "HU-TD", "--kind", "district", "--parent", "TU", env=env)
    (var_dir / "content" / "ab" / "cd").mkdir(parents=True)
    (var_dir / "content" / "ab" / "cd" / ("abcd" + "0" * 60)).write_bytes(b"%PDF-1.4 noi dung")
    secret = (var_dir / "secret_key").read_text()
    archive = tmp_path / "backup.tar.gz"
    assert "Đã sao lưu" in run_cli("backup", str(archive), env=env).stdout

    shutil.rmtree(var_dir)
    restored = run_cli("restore", str(archive), env=env)
    assert "Đã khôi phục" in restored.stdout
    assert "Huyện ủy Tiên Du [HU-TD]" in run_cli("unit", "tree", env=env).stdout
    assert (var_dir / "secret_key").read_text() == secret
    assert (var_dir / "content" / "ab" / "cd" / ("abcd" + "0" * 60)).read_bytes() == b"%PDF-1.4 noi dung"
    refused = run_cli("restore", str(archive), env=env, check=False)
    assert refused.returncode == 2 and "--force" in refused.stderr
    assert run_cli("restore", str(archive), "--force", env=env).returncode == 0


def test_tampered_and_unsafe_archives_are_refused(tmp_path):
    var_dir = tmp_path / "var"
    env = _env(var_dir)
    run_cli("init", "--non-interactive", env=env)
    archive = tmp_path / "backup.tar.gz"
    run_cli("backup", str(archive), env=env)

    tampered = tmp_path / "tampered.tar.gz"
    with tarfile.open(archive) as source, tarfile.open(tampered, "w:gz") as target:
        for member in source.getmembers():
            data = source.extractfile(member).read()
            if member.name == "secret_key":
                data = b"another key" + b"x" * 40
                member.size = len(data)
            target.addfile(member, io.BytesIO(data))
    result = run_cli("restore", str(tampered), "--force", env=_env(tmp_path / "other"), check=False)
    assert result.returncode == 2 and "bị hỏng hoặc đã bị sửa" in result.stderr

    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(evil, "w:gz") as target:
        manifest = json.dumps({"format": 1, "database": None, "files": {}}).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(manifest)
        target.addfile(info, io.BytesIO(manifest))
        payload = tarfile.TarInfo("../../escape.txt")
        payload.size = 3
        target.addfile(payload, io.BytesIO(b"bad"))
    result = run_cli("restore", str(evil), env=_env(tmp_path / "third"), check=False)
    assert result.returncode == 2 and "không an toàn" in result.stderr
    assert not (tmp_path / "escape.txt").exists()
