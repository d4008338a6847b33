"""`hoinghi backup` / `hoinghi restore`: the SQLite database (online backup), the content
store, the signing keys and the secret key, in one checksummed archive.

PostgreSQL databases are backed up with pg_dump (docs/production.md); ``--content-only``
still archives the files that live outside the database.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import shutil
import sys
import tarfile
import tempfile
from pathlib import Path, PurePosixPath

from core.commands.runtime import CommandError
from core.config import get_settings

FORMAT_VERSION = 1
DATABASE_MEMBER = "hoinghi.sqlite"


def register(subparsers: argparse._SubParsersAction) -> None:
    backup = subparsers.add_parser("backup", help="sao lưu cơ sở dữ liệu SQLite, tài liệu và khoá vào một tệp .tar.gz")
    backup.add_argument("archive", type=Path)
    backup.add_argument("--content-only", action="store_true", help="chỉ tài liệu và khoá (dùng với pg_dump cho PostgreSQL)")
    backup.set_defaults(handler=cmd_backup)
    restore = subparsers.add_parser("restore", help="khôi phục từ tệp sao lưu")
    restore.add_argument("archive", type=Path)
    restore.add_argument("--force", action="store_true", help="ghi đè cơ sở dữ liệu hiện có")
    restore.set_defaults(handler=cmd_restore)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _files_to_archive(var_dir: Path) -> list[tuple[Path, str]]:
    files = []
    for folder in ("content", "keys"):
        root = var_dir / folder
        if root.exists():
            files += [(path, f"{folder}/{path.relative_to(root).as_posix()}") for path in sorted(root.rglob("*"))
                      if path.is_file() and not path.name.startswith(".upload-")]
    if (var_dir / "secret_key").exists():
        files.append((var_dir / "secret_key", "secret_key"))
    return files


def _progress(done: int, total: int) -> None:
    if total >= 200 or sys.stderr.isatty():
        print(f"\r{done}/{total} tệp", end="\n" if done == total else "", file=sys.stderr, flush=True)


def cmd_backup(args: argparse.Namespace) -> int:
    from core.db import sqlite_backup

    settings = get_settings()
    if settings.is_postgres and not args.content_only:
        raise CommandError("Cơ sở dữ liệu là PostgreSQL: sao lưu bằng `pg_dump -Fc` (xem docs/production.md) "
                           "và dùng `hoinghi backup --content-only` cho tài liệu và khoá.")
    with tempfile.TemporaryDirectory() as scratch:
        files = _files_to_archive(settings.var_dir)
        if not args.content_only:
            if not settings.sqlite_path.exists():
                raise CommandError(f"Không thấy cơ sở dữ liệu {settings.sqlite_path}.")
            snapshot = Path(scratch) / DATABASE_MEMBER
            sqlite_backup(str(settings.sqlite_path), str(snapshot))  # consistent while the app keeps writing
            files.insert(0, (snapshot, DATABASE_MEMBER))
        manifest = {
            "format": FORMAT_VERSION,
            "created_at": dt.datetime.now(dt.timezone.utc).isoformat(),
            "database": None if args.content_only else "sqlite",
            "files": {name: {"sha256": _sha256(path), "size": path.stat().st_size} for path, name in files},
        }
        manifest_path = Path(scratch) / "manifest.json"
        manifest_path.write_text(json.dumps(manifest, indent=2))
        args.archive.parent.mkdir(parents=True, exist_ok=True)
        partial = args.archive.with_name(args.archive.name + ".partial")
        with tarfile.open(partial, "w:gz") as archive:
            archive.add(manifest_path, arcname="manifest.json")
            for number, (path, name) in enumerate(files, start=1):
                archive.add(path, arcname=name)
                _progress(number, len(files))
        partial.replace(args.archive)
    print(f"Đã sao lưu {len(files)} tệp vào {args.archive}.")
    return 0


def _safe_name(name: str) -> bool:
    path = PurePosixPath(name)
    return not path.is_absolute() and ".." not in path.parts and name == path.as_posix()


def cmd_restore(args: argparse.Namespace) -> int:
    settings = get_settings()
    if not args.archive.exists():
        raise CommandError(f"Không thấy tệp {args.archive}.")
    try:
        archive = tarfile.open(args.archive, "r:gz")
    except (tarfile.TarError, OSError) as error:
        raise CommandError(f"{args.archive} không phải tệp sao lưu hợp lệ ({error}).") from None
    with archive, tempfile.TemporaryDirectory(dir=settings.var_dir.parent if settings.var_dir.parent.exists() else None) as scratch:
        members = archive.getmembers()
        for member in members:
            if not _safe_name(member.name) or not (member.isfile() or member.isdir()):
                raise CommandError(f"Tệp sao lưu chứa mục không an toàn: {member.name!r}; từ chối khôi phục.")
        try:
            manifest = json.load(archive.extractfile("manifest.json"))
        except (KeyError, ValueError):
            raise CommandError("Tệp sao lưu thiếu manifest.json hợp lệ.") from None
        archive.extractall(scratch, filter="data")
        root = Path(scratch)
        for name, meta in manifest["files"].items():
            path = root / name
            if not _safe_name(name) or not path.is_file() or _sha256(path) != meta["sha256"]:
                raise CommandError(f"Tệp {name} trong bản sao lưu bị hỏng hoặc đã bị sửa; từ chối khôi phục.")
        if manifest.get("database") == "sqlite":
            if settings.is_postgres:
                raise CommandError("Bản sao lưu là SQLite nhưng DATABASE_URL trỏ tới PostgreSQL.")
            if settings.sqlite_path.exists() and not args.force:
                raise CommandError(f"Đã có cơ sở dữ liệu {settings.sqlite_path}; dùng --force để ghi đè.")
        settings.var_dir.mkdir(parents=True, exist_ok=True)
        names = sorted(manifest["files"])
        for number, name in enumerate(names, start=1):
            source = root / name
            target = settings.sqlite_path if name == DATABASE_MEMBER else settings.var_dir / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            _progress(number, len(names))
        if manifest.get("database") == "sqlite":
            for suffix in ("-wal", "-shm"):  # stale journal files of the replaced database
                Path(str(settings.sqlite_path) + suffix).unlink(missing_ok=True)
        if (settings.var_dir / "secret_key").exists():
            (settings.var_dir / "secret_key").chmod(0o600)
    print(f"Đã khôi phục {len(manifest['files'])} tệp từ {args.archive}.")
    return 0
