"""The AWS event-stream binary framing (``application/vnd.amazon.eventstream``) that Bedrock's
streaming operations answer with, encoded as botocore's decoder (``botocore.eventstream``) reads it.

A message is a prelude (total length and headers length, 4 bytes big-endian each), the CRC32 of
the prelude, the headers, the payload, and the CRC32 of everything before it. A header is its
name's length (1 byte), the name, a value type (7: a string), the value's length (2 bytes) and the
value. Events carry ``:message-type`` ``event``, ``:event-type`` and ``:content-type``; errors in
the stream are messages of type ``exception`` with ``:exception-type``.
"""

from __future__ import annotations

import json
import struct
import zlib
from typing import Any

_STRING = 7  # the header value type of a UTF-8 string
_PRELUDE = struct.Struct(">II")
_CRC = struct.Struct(">I")


def _header(name: str, value: str) -> bytes:
    encoded_name, encoded_value = name.encode(), value.encode()
    return (struct.pack(">B", len(encoded_name)) + encoded_name + struct.pack(">BH", _STRING, len(encoded_value))
            + encoded_value)


def message(headers: dict[str, str], payload: bytes) -> bytes:
    """One message: the prelude, its CRC, the headers, the payload and the message's CRC."""
    encoded_headers = b"".join(_header(name, value) for name, value in headers.items())
    total = _PRELUDE.size + _CRC.size + len(encoded_headers) + len(payload) + _CRC.size
    prelude = _PRELUDE.pack(total, len(encoded_headers))
    head = prelude + _CRC.pack(zlib.crc32(prelude)) + encoded_headers + payload
    return head + _CRC.pack(zlib.crc32(head))


def event(event_type: str, payload: Any) -> bytes:
    """An ``event`` message with a JSON payload."""
    return message({":event-type": event_type, ":content-type": "application/json", ":message-type": "event"},
                   json.dumps(payload, separators=(",", ":")).encode())


def exception(exception_type: str, payload: Any) -> bytes:
    """An ``exception`` message (an error in the stream: botocore raises ``EventStreamError``)."""
    return message({":exception-type": exception_type, ":content-type": "application/json",
                    ":message-type": "exception"}, json.dumps(payload, separators=(",", ":")).encode())
