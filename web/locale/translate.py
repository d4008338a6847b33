"""Fill English entries of web/locale/en/LC_MESSAGES/messages.po from a table of pairs.

Usage: python web/locale/translate.py pairs.tsv   (each line: Vietnamese<TAB>English)
Lines whose Vietnamese is not in the catalog are reported, so a typo never goes unnoticed.
"""

import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

CATALOG = Path(__file__).parent / "en" / "LC_MESSAGES" / "messages.po"


def main(pairs_file: str) -> int:
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle, locale="en")
    missing = 0
    for number, line in enumerate(Path(pairs_file).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        vietnamese, _, english = line.partition("\t")
        message = catalog.get(vietnamese)
        if message is None:
            print(f"{pairs_file}:{number}: not in the catalog: {vietnamese!r}", file=sys.stderr)
            missing += 1
            continue
        message.string = english
    with CATALOG.open("wb") as handle:
        write_po(handle, catalog, sort_output=True, omit_header=False, width=120)
    untranslated = [m.id for m in catalog if m.id and not m.string]
    for text in untranslated:
        print(f"untranslated: {text!r}", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
