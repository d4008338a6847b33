from piccolo.columns import Integer, Varchar
from piccolo.table import Table


class SampleNote(Table, tablename="sample_note"):
    unit_id = Integer()
    text = Varchar(length=255)
