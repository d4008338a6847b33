"""A domain error keeps its Vietnamese template and parameters, so that the web layer can render
it in the reader's language; only fixed-vocabulary parameters (Labels) are translated."""

import pickle

from core.errors import Conflict, DomainError, Forbidden, Label, NeedsConfirmation, Phrase, TooLarge, ValidationError

ENGLISH = {
    "Tệp vượt quá giới hạn {limit} MB.": "The file is larger than the {limit} MB limit.",
    "Bạn không có quyền {action} {what}.": "You are not allowed to {action} {what}.",
    "đơn vị": "this unit",
    "Câu {number}": "Question {number}",
    "{label} là câu bắt buộc, đồng chí chưa trả lời.": "{label} must be answered, and you have not answered it yet.",
    "Chọn: {choices}.": "Choose: {choices}.",
    "Tên không được để trống.": "The name must not be empty.",
    "Nguyễn Văn An": "Mr Nobody",  # a person's name that happens to be a msgid is not a Label: never translated
    "Người {name} đã có.": "{name} exists already.",
}
IN_CONTEXT = {("permission", "quản trị"): "administer", ("role", "Xem"): "Viewer"}


def english(message: str) -> str:
    return ENGLISH.get(message, message)


def english_in_context(context: str, message: str) -> str:
    return IN_CONTEXT.get((context, message), message)


def test_the_message_stays_vietnamese_and_keeps_its_template():
    error = TooLarge("Tệp vượt quá giới hạn {limit} MB.", field="file", limit=50)
    assert error.message == "Tệp vượt quá giới hạn 50 MB." and str(error) == error.message
    assert error.fields == {"file": "Tệp vượt quá giới hạn 50 MB."}
    assert error.message.template == "Tệp vượt quá giới hạn {limit} MB." and error.message.params == {"limit": 50}
    assert error.translated(english) == ("The file is larger than the 50 MB limit.", {"file": "The file is larger than the 50 MB limit."})


def test_labels_are_translated_with_their_context_other_parameters_are_not():
    refused = Forbidden("Bạn không có quyền {action} {what}.", action=Label("quản trị", "permission"), what=Label("đơn vị"))
    assert refused.message == "Bạn không có quyền quản trị đơn vị."
    assert refused.translated(english, english_in_context)[0] == "You are not allowed to administer this unit."
    named = Conflict("Người {name} đã có.", name="Nguyễn Văn An")
    assert named.translated(english)[0] == "Nguyễn Văn An exists already."
    listed = ValidationError("Chọn: {choices}.", choices=(Label("Xem", "role"), "admin"))
    assert listed.message == "Chọn: Xem, admin." and listed.translated(english, english_in_context)[0] == "Choose: Viewer, admin."


def test_messages_gathered_per_field_keep_their_templates():
    label = Phrase("Câu {number}", {"number": 3})
    problems = {"q3": Phrase("{label} là câu bắt buộc, đồng chí chưa trả lời.", {"label": label}), "name": "Tên không được để trống."}
    error = ValidationError(next(iter(problems.values())), fields=problems)
    assert error.message == "Câu 3 là câu bắt buộc, đồng chí chưa trả lời."
    message, fields = error.translated(english)
    assert message == "Question 3 must be answered, and you have not answered it yet."
    assert fields == {"q3": message, "name": "The name must not be empty."}
    again = ValidationError(error.fields["q3"], field="q3")  # a message taken from another error keeps its template
    assert again.translated(english)[0] == message


def test_a_message_without_parameters_is_not_formatted():
    error = DomainError("Câu trả lời phải gửi dạng {mã câu hỏi: giá trị}.")
    assert error.message == "Câu trả lời phải gửi dạng {mã câu hỏi: giá trị}."
    assert error.translated(english)[0] == error.message


def test_a_confirmation_keeps_its_preview_and_its_parameters():
    needed = NeedsConfirmation("Thêm {added} người.", preview={"added": [1, 2]}, added=2)
    assert needed.message == "Thêm 2 người." and needed.preview == {"added": [1, 2]} and needed.status == 409


def test_a_message_survives_pickling():
    message = pickle.loads(pickle.dumps(TooLarge("Tệp vượt quá giới hạn {limit} MB.", limit=5).message))
    assert message == "Tệp vượt quá giới hạn 5 MB." and message.render(english) == "The file is larger than the 5 MB limit."


def test_parameters_are_formatted_as_an_f_string_would():
    assert ValidationError("Thời gian không hợp lệ: {value!r}.", value=5).message == "Thời gian không hợp lệ: 5."
    assert ValidationError("Tối đa {limit:,} tin.", limit=10000).message == "Tối đa 10,000 tin."
    assert ValidationError("Không có: {unknown}.", unknown=["a", "b"]).message == "Không có: a, b."
