"""Stand-in routes of Azure OpenAI: the OpenAI API's chat completions and embeddings under
``/openai/deployments/{deployment}/...`` (the model named by the deployment), as the openai SDK's
``AzureOpenAI`` client sends them (``azure_endpoint=server.url_for("azure_openai")``, any
``api_version``). The answers are the OpenAI stand-in's (``apis/openai.py``), with its conventions.
"""

from __future__ import annotations

from agentops_otel_standin.api import Api, Handler, Reply, Request
from agentops_otel_standin.apis import openai


def _deployed(handler: Handler) -> Handler:
    def deployed(request: Request) -> Reply:
        body = dict(request.body) if isinstance(request.body, dict) else request.body
        if isinstance(body, dict):
            body.setdefault("model", request.path_params["deployment"])
        return handler(Request(request.method, request.path, request.headers, body, request.path_params,
                               request.query))

    return deployed


ROUTES: dict[tuple[str, str], Handler] = {
    ("POST", "/openai/deployments/{deployment}/chat/completions"): _deployed(openai.chat_completions),
    ("POST", "/openai/deployments/{deployment}/embeddings"): _deployed(openai.embeddings),
}

API = Api(name="azure_openai", routes=ROUTES)
"""A client's ``azure_endpoint`` is the host: ``StandInServer.url_for("azure_openai")``."""
