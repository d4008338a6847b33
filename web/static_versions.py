"""Static file addresses that change when the file does: ``/static/js/app.js?v=<digest>``.

Static files are cached by browsers for a day (``web.pages.static_router``); a vendored file's
name carries its version, but ours (``app.js``, ``scanner.js``) do not, and a phone at the door
would run yesterday's scanner against today's server. Pages therefore name them through the
template global ``static_url``: the query is the first characters of the file's SHA-256, so an
upgrade reaches every browser on its next page load and an unchanged file stays cached.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from stat import S_ISREG

DIGEST_CHARS = 12
_folders: dict[str, Path] = {}  # URL prefix ("/static/qr_checkin/") -> the folder it serves
_files: dict[str, Path | None] = {}  # address -> the file in a served folder (None: none), found once
_digests: dict[tuple[Path, int, int], str] = {}  # (file, mtime, size) -> digest


def serve(prefix: str, folder: str | Path) -> None:
    """Record that ``prefix`` (``/static/`` or ``/static/<plugin>/``) serves ``folder``."""
    _folders[prefix.rstrip("/") + "/"] = Path(folder).resolve()
    _files.clear()


def forget(prefix: str) -> None:
    _folders.pop(prefix.rstrip("/") + "/", None)
    _files.clear()


def _file_of(path: str) -> Path | None:
    for prefix in sorted(_folders, key=len, reverse=True):  # /static/qr_checkin/ before /static/
        if path.startswith(prefix):
            folder = _folders[prefix]
            file = (folder / path[len(prefix):]).resolve()
            return file if file.is_relative_to(folder) else None
    return None


def static_url(path: str) -> str:
    """``path`` with the digest of the file it serves; unchanged when no recorded folder holds it
    (a missing file is the template's bug, shown by a 404 in the browser, not a 500 here). Every
    page names its files: after the first time this is one ``stat`` of the file."""
    if path not in _files:
        _files[path] = _file_of(path)
    file = _files[path]
    if file is None:
        return path
    try:
        stat = file.stat()
    except OSError:
        return path
    if not S_ISREG(stat.st_mode):
        return path
    key = (file, stat.st_mtime_ns, stat.st_size)
    digest = _digests.get(key)
    if digest is None:
        digest = _digests[key] = hashlib.sha256(file.read_bytes()).hexdigest()[:DIGEST_CHARS]
    return f"{path}?v={digest}"
