import datetime as dt

import pytest

from core import clock
from core.errors import NotFound, ValidationError
from core.services import tokens
from core.tables import AuditEntry, Token
from tests.factories import SYSTEM


async def test_shown_once_secrets_are_stored_hashed_and_purpose_bound(db):
    row, plaintext = await tokens.issue_secret_token(SYSTEM, purpose="login_link", subject_type="person", subject_id=7,
                                                     ttl=dt.timedelta(hours=1))
    assert len(plaintext) >= 43
    stored = await Token.select().where(Token.id == row["id"]).first()
    assert plaintext not in str(stored) and stored["secret_hash"] != plaintext
    assert (await tokens.verify_secret_token(plaintext, "login_link"))["subject_id"] == 7
    with pytest.raises(NotFound):
        await tokens.verify_secret_token(plaintext, "api")  # a login link is not an API key
    with pytest.raises(NotFound):
        await tokens.verify_derived(plaintext, "checkin_credential")  # nor a check-in credential
    clock.set_now(clock.now() + dt.timedelta(hours=2))
    with pytest.raises(NotFound):
        await tokens.verify_secret_token(plaintext, "login_link")
    audit_rows = await AuditEntry.select().where(AuditEntry.action == "token.issue")
    assert audit_rows and plaintext not in str(audit_rows)


async def test_revoked_tokens_stop_working(db):
    row, plaintext = await tokens.issue_secret_token(SYSTEM, purpose="scanner_device", subject_type="venue", subject_id=3)
    await tokens.revoke_token(SYSTEM, row["id"])
    with pytest.raises(NotFound):
        await tokens.verify_secret_token(plaintext, "scanner_device")
    with pytest.raises(ValidationError):
        await tokens.issue_secret_token(SYSTEM, purpose="calendar_feed", subject_type="person", subject_id=1)


async def test_derived_secrets_are_stable_until_rotated(db):
    feed = await tokens.derived_token("calendar_feed", "person", 42)
    assert feed == await tokens.derived_token("calendar_feed", "person", 42)
    assert await tokens.verify_derived(feed, "calendar_feed") == ("person", 42)
    with pytest.raises(NotFound):
        await tokens.verify_derived(feed, "evaluation")
    rotated = await tokens.rotate_derived(SYSTEM, purpose="calendar_feed", subject_type="person", subject_id=42)
    assert rotated != feed and rotated == await tokens.derived_token("calendar_feed", "person", 42)
    with pytest.raises(NotFound):
        await tokens.verify_derived(feed, "calendar_feed")
    assert await Token.count().where(Token.subject_id == 42) == 1  # only the generation is stored


async def test_short_codes_use_an_unambiguous_alphabet(db):
    codes = {await tokens.short_code("checkin_credential", "invitation", n) for n in range(200)}
    assert len(codes) == 200
    assert all(len(code) == 7 and not set(code) & set("01OIL") for code in codes)
