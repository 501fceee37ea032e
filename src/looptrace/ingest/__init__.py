"""The ingest pipeline: durable log, accept, normalize, batched writes to the store."""
