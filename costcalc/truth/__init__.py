"""Truth: predictions checked against what the APIs bill — probe (token-counting endpoints) and reconcile (bills), docs/probe.md."""
