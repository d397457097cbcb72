"""KeyValueStore: store model, import format, and the read interface the runtime uses."""
