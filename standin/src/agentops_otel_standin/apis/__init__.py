"""The provider APIs the stand-in serves, one module each.

Every module of this package that defines ``API`` (an ``agentops_otel_standin.api.Api``) is served
by default: adding a provider is adding its module here, nothing else (see the package README).
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from agentops_otel_standin.api import Api


@cache
def all_apis() -> tuple[Api, ...]:
    """The ``API`` of every module in this package, in the order of the modules' names."""
    apis = []
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name):
        if module_info.name.startswith("_"):
            continue
        api = getattr(importlib.import_module(f"{__name__}.{module_info.name}"), "API", None)
        if isinstance(api, Api):
            apis.append(api)
    return tuple(apis)
