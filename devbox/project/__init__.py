"""The project's files: locating the project, reading and validating them, writing them safely."""
