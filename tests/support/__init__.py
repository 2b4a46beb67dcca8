"""Helpers the tests import (``from tests.support.otlp_receiver import OTLPReceiver``).

Fixtures live in the ``conftest.py`` files; this package holds plain functions and classes:


* ``clients``          real OpenAI / Anthropic clients pointed at the stand-in API server;
* ``spans``            picking spans out of the in-memory exporter;
* ``threads``          running callables on threads and failing with what they raised;
* ``subprocesses``     running a Python snippet in a fresh interpreter with a clean ``OTEL_*`` environment;
* ``otlp_receiver``    a real OTLP receiver (gRPC and HTTP/protobuf) on 127.0.0.1;
* ``fault_receivers``  misbehaving collectors (down, slow, failing, resetting) on 127.0.0.1;
* ``session_trees``    session trees rebuilt from what a receiver got;
* ``paths``            the repository's files the tests run or read.
"""
