"""An agent on the Anthropic Messages API, traced as a session, including a tool round trip.

Run it (no API key needed; without ``ANTHROPIC_BASE_URL`` it starts the local stand-in API)::

    OTEL_TRACES_EXPORTER=agentops_console python examples/anthropic_session.py

The Anthropic instrumentor (``pip install "agentops-otel[anthropic]"``) makes each
``messages.create`` call, and each ``messages.stream(...)``, one GenAI client span
(``chat <model>``) of the session, with the model, the tokens and the stop reason.
"""

from __future__ import annotations

import os

import anthropic

import agentops_otel as agentops

if "ANTHROPIC_BASE_URL" not in os.environ:  # no API configured: answer from the local stand-in
    from agentops_otel_standin import StandInServer

    os.environ["ANTHROPIC_BASE_URL"] = StandInServer().start().anthropic_base_url

MODEL = "claude-haiku-4-5"
WEATHER_TOOL: anthropic.types.ToolParam = {
    "name": "get_weather",
    "description": "Today's weather in a city.",
    "input_schema": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]},
}


def get_weather(location: str) -> str:
    return f"Sunny in {location}, 21 °C."  # a made-up tool: the example needs no network


def main() -> None:
    session = agentops.init(tags=["example", "anthropic"])
    assert session is not None
    # The client reads ANTHROPIC_BASE_URL itself; the key is a dummy (the stand-in checks none).
    client = anthropic.Anthropic(api_key=os.environ.get("ANTHROPIC_API_KEY", "not-a-real-key"))

    messages: list[anthropic.types.MessageParam] = [{"role": "user", "content": "What's the weather in Paris?"}]
    first = client.messages.create(model=MODEL, max_tokens=256, messages=messages, tools=[WEATHER_TOOL])

    # The model asked for the tool: run it, record it, and send the result back.
    messages.append({"role": "assistant", "content": first.content})
    for block in first.content:
        if block.type == "tool_use":
            # call_id ties the tool's span to the model's request for it (gen_ai.tool.call.id).
            tool = agentops.ToolEvent(name=block.name, params=block.input, call_id=block.id)
            tool.returns = get_weather(**block.input)  # type: ignore[arg-type]
            agentops.record(tool)
            messages.append({"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": block.id, "content": tool.returns}]})

    # Streaming: the span ends when the stream does, with the usage of the final message.
    with client.messages.stream(model=MODEL, max_tokens=256, messages=messages, tools=[WEATHER_TOOL]) as stream:
        for text in stream.text_stream:
            print(text, end="")
    print()

    agentops.end_session("Success")
    print(f"session {session.session_id} ended Success")


if __name__ == "__main__":
    main()
