"""An agent with no agentops code at all, traced by running it under ``opentelemetry-instrument``.

Run it against any OpenAI-compatible endpoint (the tests use the local stand-in API,
``agentops_otel_standin.StandInServer``, so no API key or network is needed)::

    export OPENAI_BASE_URL=http://127.0.0.1:PORT/v1 OPENAI_API_KEY=not-a-real-key
    AGENTOPS_AUTO_START_SESSION=true AGENTOPS_TAGS=no-code,example \\
        opentelemetry-instrument python examples/no_code_app.py

``opentelemetry-instrument`` loads agentops-otel's distro and configurator (installed with the
package): OTLP export to ``OTEL_EXPORTER_OTLP_ENDPOINT`` (default localhost:4317), the service
name ``no_code_app``, and, because of ``AGENTOPS_AUTO_START_SESSION=true``, one session for the
whole run, tagged from ``AGENTOPS_TAGS``. The OpenAI instrumentor makes each call below a child
span of that session. The session ends ``Indeterminate`` when the script exits (``Fail`` if it
dies of an exception), since nothing here says whether the run succeeded.
"""

from __future__ import annotations

import openai


def main() -> None:
    # The client reads OPENAI_BASE_URL and OPENAI_API_KEY from the environment, as usual.
    client = openai.OpenAI()

    # Step 1: plan. Step 2: answer using the plan. Two LLM calls, two spans in the session.
    plan = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Plan a reply to: what is the weather in Paris?"}],
    )
    answer = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[
            {"role": "system", "content": f"Follow this plan: {plan.choices[0].message.content}"},
            {"role": "user", "content": "What is the weather in Paris?"},
        ],
    )
    print(answer.choices[0].message.content)


if __name__ == "__main__":
    main()
