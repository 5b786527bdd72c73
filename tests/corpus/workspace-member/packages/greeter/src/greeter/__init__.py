def greet() -> str:
    return "ok"
