"""A session that crosses processes: a producer hands a job to a worker process, as a queue would.

The producer owns the session. It writes the session's context into the job's headers with
``agentops_otel.inject`` (W3C ``traceparent`` and the baggage entry ``agentops.session.id``); the
worker makes that context current with ``agentops_otel.attach_session``, so its spans, including
its LLM calls, land in the producer's trace, under the producer's span, tagged with the session
id. The worker never ends the session: only the producer exports the ``session`` root span.

Here the "queue" is the worker's stdin, carrying one JSON message. Run it against the local
stand-in API (or any OpenAI-compatible endpoint) with an OTLP endpoint to export to::

    export OPENAI_BASE_URL=http://127.0.0.1:PORT/v1 OPENAI_API_KEY=not-a-real-key
    export OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4317
    python examples/queue_worker.py
"""

from __future__ import annotations

import json
import subprocess
import sys

import openai
from opentelemetry import trace

import agentops_otel

tracer = trace.get_tracer("examples.queue_worker")


def produce() -> None:
    agentops_otel.init(service_name="queue-producer", auto_start_session=False)
    # The with-block ends the session Success (or Fail if it raises) once the job is done.
    with agentops_otel.start_session(tags=["queue", "producer"]) as session:
        with tracer.start_as_current_span("enqueue summarise"):
            headers: dict[str, str] = {}
            agentops_otel.inject(headers)  # traceparent + baggage of the current span and session
            message = {"headers": headers, "job": {"text": "OpenTelemetry carries context across processes."}}
        # A real producer would publish the message to a queue and return; here the worker
        # reads it from stdin and we wait for it.
        subprocess.run([sys.executable, __file__, "--worker"], input=json.dumps(message), text=True, check=True)
        print(f"session {session.session_id} done")


def work() -> None:
    # The worker sets up tracing (and the OpenAI instrumentation) but starts no session of its own.
    agentops_otel.init(service_name="queue-worker", auto_start_session=False)
    message = json.load(sys.stdin)
    with (
        agentops_otel.attach_session(message["headers"]) as session_id,
        tracer.start_as_current_span("process summarise"),
    ):
        client = openai.OpenAI()  # OPENAI_BASE_URL / OPENAI_API_KEY from the environment
        summary = client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": f"Summarise: {message['job']['text']}"}],
        )
    print(f"worker in session {session_id}: {summary.choices[0].message.content}")


if __name__ == "__main__":
    work() if sys.argv[1:] == ["--worker"] else produce()
