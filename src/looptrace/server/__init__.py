"""The looptrace server: composition root, receivers, REST and Jaeger-compatible routes, UI mount."""
