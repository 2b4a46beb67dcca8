"""Private implementation of agentops-otel: no stability promise; import from ``agentops_otel`` or
``agentops_otel.instrumentation`` instead."""
