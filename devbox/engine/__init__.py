"""The container engine: the only code that builds a container-CLI command line or
imports python_on_whales, so that Podman and remote engines fit in one place."""
