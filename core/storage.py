"""Content storage: files addressed by their SHA-256, behind a small interface.

The local-disk store is the default; an S3-compatible store can implement the same four
methods. Uploads are streamed to a temporary file while hashed and measured, so a file larger
than the limit is refused without ever being held in memory.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import os
import tempfile
import zipfile
from pathlib import Path
from typing import AsyncIterator, Protocol

from core.errors import TooLarge, ValidationError


@dataclasses.dataclass(frozen=True)
class StoredBlob:
    sha256: str
    size: int
    mime_type: str


class ContentStore(Protocol):
    async def put_stream(self, chunks: AsyncIterator[bytes], *, max_bytes: int) -> StoredBlob: ...
    def path_of(self, sha256: str) -> Path: ...
    async def exists(self, sha256: str) -> bool: ...
    async def delete(self, sha256: str) -> None: ...


def sniff_mime(head: bytes, path: Path | None = None) -> str:
    """The type from the first bytes (the client's claimed type is not trusted).

    No standard-library module does this for office documents; the magic numbers are few.
    """
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "application/x-ole-storage"  # legacy .doc / .xls
    if head.startswith(b"PK\x03\x04") and path is not None:
        return _office_type(path)
    try:
        head.decode("utf-8")
        return "text/plain; charset=utf-8"
    except UnicodeDecodeError:
        return "application/octet-stream"


def _office_type(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile:
        return "application/octet-stream"
    if "[Content_Types].xml" in names:
        if any(name.startswith("word/") for name in names):
            return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        if any(name.startswith("xl/") for name in names):
            return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        if any(name.startswith("ppt/") for name in names):
            return "application/vnd.openxmlformats-officedocument.presentationml.presentation"
    return "application/zip"


class LocalContentStore:
    """Files under ``root/ab/cd/<sha256>``; written to a temporary file, then renamed atomically."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def path_of(self, sha256: str) -> Path:
        if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            raise ValueError("not a sha256 hex digest")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    async def put_stream(self, chunks: AsyncIterator[bytes], *, max_bytes: int) -> StoredBlob:
        self.root.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        head = b""
        handle = tempfile.NamedTemporaryFile(dir=self.root, prefix=".upload-", delete=False)
        temp_path = Path(handle.name)
        try:
            async for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise TooLarge("Tệp vượt quá giới hạn {limit} MB.", field="file", limit=max_bytes // (1024 * 1024))
                digest.update(chunk)
                if len(head) < 4096:
                    head += chunk[: 4096 - len(head)]
                await asyncio.to_thread(handle.write, chunk)
            handle.close()
            if size == 0:
                raise ValidationError("Tệp rỗng.", field="file")
            sha = digest.hexdigest()
            mime = sniff_mime(head, temp_path)
            target = self.path_of(sha)
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists():
                temp_path.unlink()  # the same content is already stored
            else:
                os.replace(temp_path, target)
            return StoredBlob(sha256=sha, size=size, mime_type=mime)
        finally:
            handle.close()
            if temp_path.exists():
                temp_path.unlink()

    async def exists(self, sha256: str) -> bool:
        return self.path_of(sha256).exists()

    async def delete(self, sha256: str) -> None:
        self.path_of(sha256).unlink(missing_ok=True)


def default_store() -> LocalContentStore:
    from core.config import get_settings

    return LocalContentStore(get_settings().content_dir)
