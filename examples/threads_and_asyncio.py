"""Sessions running side by side in threads and in asyncio tasks.

Run it (no API key needed; without ``OPENAI_BASE_URL`` it starts the local stand-in API)::

    OTEL_TRACES_EXPORTER=agentops_console python examples/threads_and_asyncio.py

Which session a call belongs to follows the OpenTelemetry context, which lives in
``contextvars``:

* an asyncio task copies the context of the code that created it, so tasks started inside
  ``async with session:`` belong to that session;
* a new thread starts with an *empty* context, so make the session current in the thread
  (``with session:`` there) or hand the thread a function bound with ``session.patch``.

Each session here uses its own model name, so you can see that no call strays into another
session.
"""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor

import openai

import agentops_otel as agentops

if "OPENAI_BASE_URL" not in os.environ:  # no API configured: answer from the local stand-in
    from agentops_otel_standin import StandInServer

    os.environ["OPENAI_BASE_URL"] = StandInServer().start().openai_base_url

API_KEY = os.environ.get("OPENAI_API_KEY", "not-a-real-key")


# -- threads ------------------------------------------------------------------------------------


def thread_agent(session: agentops.Session, client: openai.OpenAI, model: str) -> None:
    # ``with session:`` makes the session current in this thread and ends it when the block
    # exits: Success, or Fail if the block raises.
    with session:
        client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Plan the Oslo trip."}])
        session.record(agentops.ToolEvent(name="book_hotel", params={"city": "Oslo"}, returns="booked"))
        client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Confirm the Oslo trip."}])


def lookup(client: openai.OpenAI, model: str, topic: str) -> None:
    client.chat.completions.create(model=model, messages=[{"role": "user", "content": f"Look up {topic}."}])


def run_threads(client: openai.OpenAI) -> list[agentops.Session]:
    models = ["gpt-4o-mini", "gpt-4o"]
    sessions = [agentops.start_session(tags=["example", "thread", model]) for model in models]
    with ThreadPoolExecutor(max_workers=4) as pool:
        runs = [pool.submit(thread_agent, session, client, model)
                for session, model in zip(sessions, models, strict=True)]
        for run in runs:
            run.result()
    # A function bound with session.patch carries its session into whichever thread runs it.
    extra = agentops.start_session(tags=["example", "thread", "patched", "gpt-4.1-mini"])
    also_open = agentops.start_session(tags=["example", "idle"])  # keeps multi-session mode on
    with ThreadPoolExecutor(max_workers=2) as pool:
        bound = extra.patch(lookup)
        list(pool.map(lambda topic: bound(client, "gpt-4.1-mini", topic), ["museums", "ferries"]))
    extra.end_session("Success")
    also_open.end_session("Indeterminate")
    return [*sessions, extra, also_open]


# -- asyncio ------------------------------------------------------------------------------------


async def async_lookup(client: openai.AsyncOpenAI, model: str, topic: str) -> None:
    await client.chat.completions.create(model=model, messages=[{"role": "user", "content": f"Look up {topic}."}])


async def task_agent(session: agentops.Session, client: openai.AsyncOpenAI, model: str) -> None:
    async with session:  # current in this task (and in the tasks it starts); ended on exit
        await client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Plan Kyoto."}])
        # These child tasks copy this task's context, so their calls belong to the session too.
        await asyncio.gather(async_lookup(client, model, "temples"), async_lookup(client, model, "trains"))


async def run_tasks() -> list[agentops.Session]:
    client = openai.AsyncOpenAI(api_key=API_KEY)
    models = ["gpt-4o-mini", "gpt-4o", "gpt-4.1-mini"]
    sessions = [agentops.start_session(tags=["example", "asyncio", model]) for model in models]
    await asyncio.gather(*(task_agent(session, client, model) for session, model in zip(sessions, models, strict=True)))
    await client.close()
    return sessions


def main() -> None:
    agentops.init(auto_start_session=False)
    client = openai.OpenAI(api_key=API_KEY)
    sessions = run_threads(client) + asyncio.run(run_tasks())
    for session in sessions:
        print(f"session {session.session_id} ended {session.end_state} tags={','.join(session.tags)}")


if __name__ == "__main__":
    main()
