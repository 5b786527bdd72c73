"""Processes, signals and session state: what every long-running command stands on."""
