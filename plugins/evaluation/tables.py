"""The plugin's tables (prefixed ``evaluation_``).

References to the core (unit, conference, session, person) are plain integers: the plugin
cleans up after itself through the ``unit_deleted`` / ``conference_deleted`` hooks, and a core
row never waits on a plugin's foreign key.

Anonymity, by construction:

* a response and its answers carry random UUIDs (never a sequence), and only the day;
* who took part is in ``evaluation_participation`` (form, person, day) with no link to the
  response; neither an audit entry nor an event is written per response;
* a response's edit key is shown once and only its SHA-256 is stored.

Numeric answers (ratings, choices, yes/no) are one small row each, indexed by (form, question,
value) so that the results of 100,000 responses are one GROUP BY over the index.
"""

from __future__ import annotations

from piccolo.columns import JSON, Boolean, Date, Integer, Serial, SmallInt, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class EvaluationTemplate(Table, tablename="evaluation_template"):
    """A unit's reusable form; its questions live in versions."""

    id: Serial
    unit_id = Integer(index=True)
    name = Varchar(length=255)
    current_version = Integer(default=1)
    archived = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class EvaluationTemplateVersion(Table, tablename="evaluation_template_version"):
    """One immutable version of a template: editing a template writes a new version, so forms
    already attached (and answered) keep the questions they were answered with."""

    id: Serial
    template_id = Integer(index=True)
    number = Integer()
    content = JSON(default="{}")  # {"title", "intro", "sections": [{"title", "questions": [...]}]}
    created_by = Integer(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class EvaluationForm(Table, tablename="evaluation_form"):
    """A template version attached to a conference, or to one of its sessions (rate the speaker)."""

    id: Serial
    unit_id = Integer(index=True)  # the conference's unit
    conference_id = Integer(index=True)
    session_id = Integer(null=True, default=None)
    speaker_ids = JSON(default="[]")  # the session's speakers when the form was attached
    template_id = Integer()
    version_id = Integer()
    title = Varchar(length=500)
    anonymous = Boolean(default=False)
    editable = Boolean(default=True)  # named: until closing; anonymous: with the edit key
    audience = Varchar(length=16, default="present")  # present | invited
    open_on_end = Boolean(default=True)
    close_after_days = Integer(default=7)
    status = Varchar(length=12, default="draft", index=True)  # draft, open, closed
    opened_at = Timestamptz(null=True, default=None)
    closes_at = Timestamptz(null=True, default=None)
    closed_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class EvaluationParticipation(Table, tablename="evaluation_participation"):
    """Who answered an anonymous form, and on which day: no link to the response."""

    id = Varchar(length=36, primary_key=True)
    form_id = Integer()
    person_id = Integer()
    day = Date()


class EvaluationResponse(Table, tablename="evaluation_response"):
    id = Varchar(length=36, primary_key=True)  # random UUID
    form_id = Integer(index=True)
    person_id = Integer(null=True, default=None)  # named forms only
    group_unit_id = Integer(null=True, default=None)  # the respondent's unit, for breakdowns of ≥ 5
    day = Date()
    updated_day = Date()
    edit_key_hash = Varchar(length=64, null=True, default=None, unique=True)


class EvaluationAnswer(Table, tablename="evaluation_answer"):
    """A numeric answer: rating 1–5, yes (1) / no (0), or the index of a chosen option (one row
    per chosen option of a multiple choice). Its id is internal and never shown."""

    id: Serial
    response_id = Varchar(length=36, index=True)
    form_id = Integer()
    question = SmallInt()
    value = SmallInt()
    group_unit_id = Integer(null=True, default=None)


class EvaluationText(Table, tablename="evaluation_text"):
    """A written answer: short or long text, or a kiến nghị with its topic; staff tag it and
    mark it answered or passed up to the level above."""

    id = Varchar(length=36, primary_key=True)  # random UUID
    response_id = Varchar(length=36, index=True)
    form_id = Integer(index=True)
    unit_id = Integer(index=True)  # the form's unit (kiến nghị are gathered across a subtree)
    conference_id = Integer()
    question = SmallInt()
    kind = Varchar(length=16)  # short_text, long_text, recommendation
    text = Text()
    topic = Varchar(length=64, default="")
    tags = JSON(default="[]")
    status = Varchar(length=12, default="new", index=True)  # new, answered, passed_up
    reply = Text(default="")
    day = Date()


TABLES = (EvaluationTemplate, EvaluationTemplateVersion, EvaluationForm, EvaluationParticipation, EvaluationResponse,
          EvaluationAnswer, EvaluationText)

# Composite indexes (one participation and one named response per form and person, the tally
# index) are created by migrations/evaluation/evaluation_2026_12_01t20_49_00_000000.py.
