"""The base class of agentops-otel's instrumentors."""

from __future__ import annotations

from typing import Any

from opentelemetry.instrumentation.instrumentor import BaseInstrumentor  # type: ignore[attr-defined]

from agentops_otel._internal.activation import cancel_activation


class Instrumentor(BaseInstrumentor):  # type: ignore[misc]  # BaseInstrumentor's module is untyped (Any)
    """``BaseInstrumentor`` for an instrumentor that ``init()`` loads when its library is imported.

    ``init()`` does not load the instrumentor until the application imports the library (see the
    ``agentops_otel.instruments`` entry point group in CONTRIBUTING.md). ``uninstrument()`` called
    before that import has nothing to undo yet: here it also cancels the pending activation, so the
    library stays unwrapped when it is imported.

    Example::

        class ExampleInstrumentor(Instrumentor):
            def instrumentation_dependencies(self) -> Collection[str]:
                return ("example-client >= 1.0",)

            def _instrument(self, **kwargs: Any) -> None: ...

            def _uninstrument(self, **kwargs: Any) -> None: ...
    """

    def uninstrument(self, **kwargs: Any) -> Any:
        cancel_activation(type(self))
        return super().uninstrument(**kwargs)
