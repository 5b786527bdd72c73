"""Keeping a container in step with the host: watch rules, the watcher, batching,
transfer and the fallback loop."""
