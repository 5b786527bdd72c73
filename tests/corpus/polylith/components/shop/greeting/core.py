def hello() -> str:
    return "hello from the greeting component"
