"""LangChain / LangGraph applications for the instrumentation tests, talking to the stand-in.

A weather agent as users build one with LangGraph: an ``agent`` node calls the chat model with
the tools bound, a ``tools`` node (LangGraph's ``ToolNode``) runs the tool call the model asked
for, and the agent answers from the tool's result. The stand-in answers the first model call
with a call of the first tool and the second, after the tool result, with text.
"""

from __future__ import annotations

from typing import Any

import openai
from agentops_otel_standin import StandInServer
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable, RunnableLambda
from langchain_core.tools import BaseTool, tool
from langchain_openai import ChatOpenAI
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode, tools_condition
from pydantic import SecretStr

from tests.support.clients import OPENAI_API_KEY

MODEL = "gpt-4o-mini"
QUESTION = {"messages": [HumanMessage("What is the weather in Paris?")]}


@tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"It is sunny in {city}."


@tool
def get_forecast(city: str) -> str:
    """Tomorrow's weather in a city (its service is down)."""
    raise ValueError(f"the forecast service for {city} is down")


def chat_model(standin: StandInServer) -> ChatOpenAI:
    """A ``ChatOpenAI`` whose HTTP calls go to the stand-in (make it inside the event loop that uses
    it: its async client belongs to one loop)."""
    # Its own async HTTP client: langchain-openai otherwise shares one per base URL across event
    # loops, and a test's asyncio.run closes the loop it is bound to.
    return ChatOpenAI(model=MODEL, base_url=standin.openai_base_url, api_key=SecretStr(OPENAI_API_KEY),
                      max_retries=0, http_async_client=openai.DefaultAsyncHttpxClient())


def weather_graph(model: BaseChatModel, tools: list[BaseTool] | None = None, *, name: str = "weather",
                  handle_tool_errors: bool = True, checkpointer: Any = None) -> Any:
    """The two-node agent graph (``agent`` <-> ``tools``), with sync and async nodes."""
    tools = tools or [get_weather]
    bound = model.bind_tools(tools)

    def agent(state: MessagesState) -> dict[str, Any]:
        return {"messages": [bound.invoke(state["messages"])]}

    async def agent_async(state: MessagesState) -> dict[str, Any]:
        return {"messages": [await bound.ainvoke(state["messages"])]}

    graph = StateGraph(MessagesState)
    graph.add_node("agent", RunnableLambda(agent, afunc=agent_async, name="agent"))
    graph.add_node("tools", ToolNode(tools, handle_tool_errors=handle_tool_errors))
    graph.add_edge(START, "agent")
    graph.add_conditional_edges("agent", tools_condition)
    graph.add_edge("tools", "agent")
    return graph.compile(name=name, checkpointer=checkpointer)


def question_chain(model: BaseChatModel) -> Runnable[dict[str, str], Any]:
    """A plain chain, prompt then model: no agent."""
    return ChatPromptTemplate.from_messages([("user", "{question}")]) | model
