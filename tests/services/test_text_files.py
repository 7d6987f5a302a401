"""Reading files someone else wrote: JSON or CSV saved as UTF-16 (Windows PowerShell's `>`)."""

from __future__ import annotations

import pytest

from console.services.text_files import NotUtf8, decode_utf8, utf16_problem

SAVE_AS_UTF8 = ("UTF-16 text, not UTF-8: save the file as UTF-8 (in Windows PowerShell, "
                "`| Out-File -Encoding utf8` instead of `>`)")


@pytest.mark.parametrize("data", [
    '{"name": "app/x"}\r\n'.encode("utf-16"),  # the byte order mark, then little-endian
    b"\xfe\xff" + '[{"name": "app/x"}]'.encode("utf-16-be"),
    b"\xff\xfe" + '  \r\n{"name": "app/x"}'.encode("utf-16-le"),
    b"\xff\xfe",  # an empty file PowerShell wrote
    # CSV rows files: `ConvertTo-Csv > rows.csv` (its #TYPE line), a plain header
    '#TYPE System.Management.Automation.PSCustomObject\r\n"user","n"\r\n'.encode("utf-16"),
    b"\xff\xfe" + "user,n\r\nAnn,1\r\nZo\u00eb,2\r\n".encode("utf-16-le"),
    # spaces, joiners, soft hyphens and line separators are text (they were "binary")
    b"\xff\xfe" + '{"price": "1\u00a0000 \u20ac \U0001f468\u200d\U0001f469 \u00ad\u2028\u3000"}'
    .encode("utf-16-le"),
    # without a byte order mark (.NET's Encoding.Unicode.GetBytes, a tool's export)
    '{"name": "app/x"}'.encode("utf-16-le"),
    '[{"name": "app/x"}]\n'.encode("utf-16-be"),
])
def test_json_in_utf16_is_named_as_such(data: bytes) -> None:
    assert utf16_problem(data) == SAVE_AS_UTF8


@pytest.mark.parametrize("data", [
    b'{"name": "app/x"}',
    '{"name": "app/x"}'.encode("utf-8-sig"),
    b"\xff\xfe\x00garbage",  # decodes as UTF-16 (CJK), but is not JSON
    b"\xff\xfe\x00\xd8",  # a lone surrogate: not UTF-16 at all
    b"\xff\xfe" + "a\x00\x01\x02".encode("utf-16-le"),  # control characters: binary
    b"\x00\x00\x00\x01",  # no byte order mark, no text
    b"{\x00\x01\x00",  # a zero byte beside the first, then a control: binary
    b"",
])
def test_anything_else_is_left_to_the_other_checks(data: bytes) -> None:
    assert utf16_problem(data) is None


@pytest.mark.parametrize(("data", "line", "column", "byte"), [
    (b'{"name": "caf\xe9"}', 1, 14, 13),
    (b'{\r\n "name": "\xe2\x82\xac caf\xe9"}', 2, 16, 20),  # after CRLF and a 3-byte €
    # after a byte order mark: it is not a column, and the byte counts it (utf-8-sig's
    # offsets did not: a file was placed 3 bytes early, or the count raised again)
    (b"\xef\xbb\xbf{\xff", 1, 2, 4),
    (b'\xef\xbb\xbf{"name":"a\xff"}', 1, 11, 13),
    (b'\xef\xbb\xbf{"format":"\xc3\xa9x\xff', 1, 14, 17),
])
def test_a_byte_that_is_not_utf8_is_placed_where_it_is(data, line, column, byte):
    with pytest.raises(NotUtf8) as info:
        decode_utf8(data)
    assert (info.value.line, info.value.column, info.value.byte) == (line, column, byte)
    assert str(info.value) == f"not UTF-8 text at line {line}, column {column} (byte {byte})"
    assert decode_utf8(b"\xef\xbb\xbf{}") == "{}"
