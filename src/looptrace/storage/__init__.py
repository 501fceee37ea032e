"""Storage: the `TraceWriter`/`TraceReader` contract (`api`) and one folder per engine."""
