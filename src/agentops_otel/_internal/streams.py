"""Calls whose span ends after the client's method returned: streams, and raw responses read later.

A streamed call's span ends exactly once, with what the endpoint's accumulator saw: when the
stream is exhausted, fails, is closed, leaves its ``with`` block or is garbage collected. The
proxies behave as the objects they wrap (attributes, ``isinstance``, context manager).

Whether the stream was read to its end is recorded (``agentops.stream.completed``): a stream the
application closes or drops early is not an error (status UNSET, no ``error.type``: the semantic
conventions set those only for an operation that failed) but it is not a complete response either,
and ``gen_ai.response.finish_reasons`` holds only what arrived. A stream ended by an exception
failed: ERROR with the exception's type as ``error.type``, whether it was raised by the stream's
read (the API's error mid-stream, a cancelled task, Ctrl-C), by the application's code inside the
stream's ``with`` block (or the loop in it), or by ``close()``. An exception raised in a loop over a
stream outside any ``with`` never reaches the stream: its span ends when it is closed or collected.

A Stainless client's raw response (``with_raw_response`` of a stream, ``with_streaming_response``)
says what it holds only when the caller parses it: its span ends then, with the parsed response's
attributes or with the stream ``parse()`` returns, or when the response is closed, or dropped
unparsed. Once ``parse()`` gave a stream, the stream owns the span: the raw response may be dropped
while the stream is read (LiteLLM does so for every stream it sends through the openai client).
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import wrapt

from agentops_otel._internal.attribute_names import STREAM_COMPLETED
from agentops_otel._internal.endpoint import Endpoint, StreamAccumulator
from agentops_otel._internal.llm_call import LLMCall, call_safely

logger = logging.getLogger("agentops_otel.instrumentation")

_UNREADABLE_CHUNK = ("agentops-otel: skipped reading the rest of a stream after a chunk it could not read; "
                     "the span keeps what was read before")


def end_stream(call: LLMCall, accumulator: StreamAccumulator, error: BaseException | None = None,
               completed: bool = False) -> None:
    """End a stream's call (once: later calls do nothing) with what the accumulator saw.

    ``completed``: the stream was read to its end (else it was closed, dropped or failed early).
    """
    if call.ended:
        return
    attributes = call_safely("stream attributes", accumulator.attributes) or {}
    attributes[STREAM_COMPLETED] = completed
    if error is None:
        call.succeed(attributes)
    else:
        call.fail(error, attributes)


def _interruption(exc_info: tuple[Any, ...]) -> BaseException | None:
    """The exception leaving a stream's ``with`` block, which ends its call as failed: the
    application's own error while it read the stream, a cancelled task, Ctrl-C. ``GeneratorExit``
    (a generator reading the stream closed early) is an early close, not a failure."""
    error = exc_info[1] if exc_info else None
    if isinstance(error, BaseException) and not isinstance(error, GeneratorExit):
        return error
    return None


def end_traced_stream(stream: object, error: BaseException | None = None) -> None:
    """End the call of a traced stream now, as closing it would; anything else is left alone.

    For code that ends a stream without going through its proxy: a client's helper that reads
    the traced stream but closes the HTTP response itself (OpenAI's ``ChatCompletionStream``
    does) calls this from a wrapper of its ``close``; ``error``: the exception leaving the helper's
    ``with`` block, which fails the call as it would leaving the stream's own. Never raises.
    """
    if isinstance(stream, (TracedStream, TracedAsyncStream)):
        try:
            end_stream(stream._self_call, stream._self_accumulator, _interruption((None, error, None)))
        except Exception:
            logger.debug("agentops-otel: could not end a traced stream's span", exc_info=True)


def traced_stream(result: Any, call: LLMCall, accumulator: StreamAccumulator, is_async: bool) -> Any:
    """``result`` (a stream) behind the proxy that ends ``call`` with it, or ``None`` if it is no
    stream: an iterator, an async iterator, or a context manager that gives one on entering."""
    if is_async and hasattr(result, "__anext__"):
        return TracedAsyncStream(result, call, accumulator)
    if hasattr(result, "__next__"):
        return TracedStream(result, call, accumulator)
    if hasattr(result, "__anext__"):
        return TracedAsyncStream(result, call, accumulator)
    if hasattr(result, "__aenter__"):
        return TracedAsyncStreamManager(result, call, accumulator)
    if hasattr(result, "__enter__"):
        return TracedStreamManager(result, call, accumulator)
    return None


class TracedStream(wrapt.ObjectProxy[Any]):
    """A synchronous stream whose call span ends when the stream does.

    Behaves as the wrapped stream (attributes, ``isinstance``, context manager); the span ends
    when iteration stops, on ``close()``, on leaving ``with``, or when the stream is collected.
    """

    def __init__(self, stream: Any, call: LLMCall, accumulator: StreamAccumulator) -> None:
        super().__init__(stream)
        self._self_call = call
        self._self_accumulator = accumulator
        # The bound ``feed`` and the stream's bound ``__next__``, looked up once, not per chunk;
        # ``feed`` is ``None`` once a chunk could not be read.
        self._self_feed: Callable[[Any], None] | None = accumulator.feed
        self._self_next: Callable[[], Any] = stream.__next__

    def __iter__(self) -> TracedStream:
        return self

    def __next__(self) -> Any:
        try:
            chunk = self._self_next()
        except StopIteration:
            end_stream(self._self_call, self._self_accumulator, completed=True)
            raise
        except BaseException as error:
            end_stream(self._self_call, self._self_accumulator, error)
            raise
        feed = self._self_feed
        if feed is not None:
            try:
                feed(chunk)
            except Exception:
                # One debug line per stream, not per chunk; the rest of the stream passes unread.
                self._self_feed = None
                logger.debug(_UNREADABLE_CHUNK, exc_info=True)
        return chunk

    def __enter__(self) -> TracedStream:
        self.__wrapped__.__enter__()
        return self

    def __exit__(self, *exc_info: Any) -> Any:
        try:
            return self.__wrapped__.__exit__(*exc_info)
        finally:
            end_stream(self._self_call, self._self_accumulator, _interruption(exc_info))

    def close(self) -> None:
        try:
            self.__wrapped__.close()
        except BaseException as error:
            end_stream(self._self_call, self._self_accumulator, error)
            raise
        end_stream(self._self_call, self._self_accumulator)

    def __del__(self) -> None:
        end_stream(self._self_call, self._self_accumulator)


class TracedAsyncStream(wrapt.ObjectProxy[Any]):
    """The asynchronous counterpart of ``TracedStream``."""

    def __init__(self, stream: Any, call: LLMCall, accumulator: StreamAccumulator) -> None:
        super().__init__(stream)
        self._self_call = call
        self._self_accumulator = accumulator
        # The bound ``feed``, looked up once, not per chunk; ``None`` once a chunk could not be read.
        self._self_feed: Callable[[Any], None] | None = accumulator.feed
        self._self_anext: Callable[[], Awaitable[Any]] = stream.__anext__

    def __aiter__(self) -> TracedAsyncStream:
        return self

    async def __anext__(self) -> Any:
        try:
            chunk = await self._self_anext()
        except StopAsyncIteration:
            end_stream(self._self_call, self._self_accumulator, completed=True)
            raise
        except BaseException as error:
            end_stream(self._self_call, self._self_accumulator, error)
            raise
        feed = self._self_feed
        if feed is not None:
            try:
                feed(chunk)
            except Exception:
                # One debug line per stream, not per chunk; the rest of the stream passes unread.
                self._self_feed = None
                logger.debug(_UNREADABLE_CHUNK, exc_info=True)
        return chunk

    async def __aenter__(self) -> TracedAsyncStream:
        await self.__wrapped__.__aenter__()
        return self

    async def __aexit__(self, *exc_info: Any) -> Any:
        try:
            return await self.__wrapped__.__aexit__(*exc_info)
        finally:
            end_stream(self._self_call, self._self_accumulator, _interruption(exc_info))

    async def close(self) -> None:
        try:
            await self.__wrapped__.close()
        except BaseException as error:
            end_stream(self._self_call, self._self_accumulator, error)
            raise
        end_stream(self._self_call, self._self_accumulator)

    async def aclose(self) -> None:
        try:
            await self.__wrapped__.aclose()
        except BaseException as error:
            end_stream(self._self_call, self._self_accumulator, error)
            raise
        end_stream(self._self_call, self._self_accumulator)

    def __del__(self) -> None:
        end_stream(self._self_call, self._self_accumulator)


class TracedStreamManager(wrapt.ObjectProxy[Any]):
    """A context manager that gives a stream on entering (``with client.stream(...) as stream:``).

    Entering runs with the call's span current (a lazy client sends its request then) and gives
    the stream traced; the span ends with the stream, on leaving the block, or when the manager
    is collected; if entering fails, it ends with that error.
    """

    def __init__(self, manager: Any, call: LLMCall, accumulator: StreamAccumulator) -> None:
        super().__init__(manager)
        self._self_call = call
        self._self_accumulator = accumulator

    def __enter__(self) -> Any:
        call = self._self_call
        try:
            with call:
                stream = self.__wrapped__.__enter__()
        except BaseException as error:
            end_stream(call, self._self_accumulator, error)
            raise
        if stream is self.__wrapped__:
            return self
        return traced_stream(stream, call, self._self_accumulator, is_async=False) or stream

    def __exit__(self, *exc_info: Any) -> Any:
        try:
            return self.__wrapped__.__exit__(*exc_info)
        finally:
            end_stream(self._self_call, self._self_accumulator, _interruption(exc_info))

    def __del__(self) -> None:
        end_stream(self._self_call, self._self_accumulator)


class TracedAsyncStreamManager(wrapt.ObjectProxy[Any]):
    """The asynchronous counterpart of ``TracedStreamManager`` (``async with``)."""

    def __init__(self, manager: Any, call: LLMCall, accumulator: StreamAccumulator) -> None:
        super().__init__(manager)
        self._self_call = call
        self._self_accumulator = accumulator

    async def __aenter__(self) -> Any:
        call = self._self_call
        try:
            with call:
                stream = await self.__wrapped__.__aenter__()
        except BaseException as error:
            end_stream(call, self._self_accumulator, error)
            raise
        if stream is self.__wrapped__:
            return self
        return traced_stream(stream, call, self._self_accumulator, is_async=True) or stream

    async def __aexit__(self, *exc_info: Any) -> Any:
        try:
            return await self.__wrapped__.__aexit__(*exc_info)
        finally:
            end_stream(self._self_call, self._self_accumulator, _interruption(exc_info))

    def __del__(self) -> None:
        end_stream(self._self_call, self._self_accumulator)


# -- raw responses of Stainless-generated clients --------------------------------------------------


def is_raw_response(result: Any) -> bool:
    """Whether a Stainless client returned its raw response object (``LegacyAPIResponse``, ``APIResponse``).

    Asked of every result, most of them pydantic models, on which probing a missing attribute
    is slow (pydantic's ``__getattr__`` raises): so ask the class, once per class.
    """
    return _has_parse_method(result.__class__) and hasattr(result, "http_response")


@functools.lru_cache(maxsize=256)
def _has_parse_method(cls: type) -> bool:
    return callable(getattr(cls, "parse", None))


def body_read(result: Any) -> bool:
    """Whether a raw response's body is read already (``with_raw_response`` of a non-stream)."""
    return not inspect.iscoroutinefunction(result.parse) and bool(
        getattr(result.http_response, "is_stream_consumed", True))


class TracedRawResponse(wrapt.ObjectProxy):  # type: ignore[type-arg]
    """A raw response whose call span ends when the caller parses it, closes it, or drops it.

    ``parse()`` of a streamed call returns the stream traced (its span ends with the stream, with
    the usage of its final chunk); ``parse()`` of any other call ends the span with the parsed
    response's attributes. Behaves as the wrapped response otherwise (``isinstance`` included).
    """

    def __init__(self, response: Any, call: LLMCall, endpoint: Endpoint, stream: bool) -> None:
        super().__init__(response)
        self._self_call = call
        self._self_endpoint = endpoint
        self._self_stream = stream
        self._self_accumulator: StreamAccumulator | None = None
        self._self_parsed: Any = None
        self._self_traced: Any = None

    def parse(self, *args: Any, **kwargs: Any) -> Any:
        parse = self.__wrapped__.parse
        if inspect.iscoroutinefunction(parse):
            return self._self_parse_async(parse, *args, **kwargs)
        return self._self_trace(parse(*args, **kwargs))

    async def _self_parse_async(self, parse: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any) -> Any:
        return self._self_trace(await parse(*args, **kwargs))

    def _self_trace(self, parsed: Any) -> Any:
        call = self._self_call
        if not self._self_stream:
            call.succeed(call_safely("response attributes", self._self_endpoint.response, parsed))
            return parsed
        if parsed is self._self_parsed:  # the SDK caches what parse() returns: so do we
            return self._self_traced
        if call.ended or self._self_parsed is not None:
            return parsed
        accumulator = call_safely("a stream accumulator", self._self_endpoint.accumulator)
        if accumulator is None:
            return parsed
        self._self_accumulator = accumulator
        self._self_parsed = parsed
        if hasattr(parsed, "__anext__"):
            self._self_traced = TracedAsyncStream(parsed, call, accumulator)
        elif hasattr(parsed, "__next__"):
            self._self_traced = TracedStream(parsed, call, accumulator)
        else:
            self._self_traced = parsed
            call.succeed(call_safely("response attributes", self._self_endpoint.response, parsed))
        return self._self_traced

    def _self_end(self, error: BaseException | None = None) -> None:
        call = self._self_call
        if self._self_accumulator is not None:
            end_stream(call, self._self_accumulator, error)
        elif error is not None:
            call.fail(error)
        else:
            call.succeed()

    def close(self) -> Any:
        try:
            result = self.__wrapped__.close()
        except BaseException as error:
            self._self_end(error)
            raise
        if inspect.isawaitable(result):  # AsyncAPIResponse.close is a coroutine
            return self._self_close_async(result)
        self._self_end()
        return result

    async def _self_close_async(self, closing: Awaitable[Any]) -> Any:
        try:
            result = await closing
        except BaseException as error:
            self._self_end(error)
            raise
        self._self_end()
        return result

    def __del__(self) -> None:
        if self._self_accumulator is not None:
            return  # parse() gave a traced stream: it ends the span (read to its end, closed or dropped)
        try:
            self._self_end()
        except Exception:  # never raise from a finaliser (it may run at interpreter exit)
            logger.debug("agentops-otel: could not end a dropped raw response's span", exc_info=True)
