"""Validation of session tags: what a user may pass, and the clear error when it is something else."""

from __future__ import annotations

from collections.abc import Iterable

MAX_TAG_LENGTH = 256
"""Longest tag accepted, in characters."""
MAX_TAGS = 128
"""Most tags one session may carry."""


def normalise_tags(tags: object) -> list[str]:
    """``tags`` as a list of distinct strings, order kept.

    Accepts one string or an iterable of strings (list, tuple, set, ...).

    Raises:
        TypeError: ``tags`` is ``None``, bytes, or holds something that is not a ``str``.
        ValueError: a tag is empty, longer than ``MAX_TAG_LENGTH``, not encodable as UTF-8, or
            there are more than ``MAX_TAGS``.
    """
    if isinstance(tags, str):
        items: Iterable[object] = [tags]
    elif tags is None or isinstance(tags, (bytes, bytearray, dict)) or not isinstance(tags, Iterable):
        raise TypeError(f"tags must be a string or a list of strings; got {type(tags).__name__}")
    else:
        items = tags
    result: dict[str, None] = {}
    for tag in items:
        if not isinstance(tag, str):
            raise TypeError(f"each tag in tags must be a str; got {type(tag).__name__} {tag!r:.80}")
        if not tag:
            raise ValueError("tags must be non-empty strings; tags holds an empty string")
        if len(tag) > MAX_TAG_LENGTH:
            raise ValueError(f"a tag is at most {MAX_TAG_LENGTH} characters; got one of {len(tag)}: {tag[:40]!r}...")
        try:
            tag.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(f"tags must be valid Unicode text (UTF-8 encodable); got {tag!r:.80}") from None
        result[tag] = None
        if len(result) > MAX_TAGS:
            raise ValueError(f"a session holds at most {MAX_TAGS} tags; tags has more")
    return list(result)
