"""Built-in plugin ``evaluation``: post-conference evaluation forms (phiếu đánh giá) and
grassroots opinions (kiến nghị), tied to the roll-call. Versioned templates owned by a unit,
forms attached to a conference or to each of its sessions, named or anonymous answers, results
with server-rendered SVG charts, CSV/XLSX exports and a printable summary. See README.md."""

from core.errors import Label

LABEL = Label("Phiếu đánh giá hội nghị")
REQUIRES: tuple[str, ...] = ()
