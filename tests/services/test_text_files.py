"""Reading files someone else wrote: JSON or CSV saved as UTF-16 (Windows PowerShell's `>`)."""

from __future__ import annotations

import pytest

from console.services.text_files import utf16_problem

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
