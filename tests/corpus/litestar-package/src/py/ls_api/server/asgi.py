from litestar import Litestar


def create_app() -> Litestar:
    """A factory in the package's server/ folder, as litestar-fullstack has it."""
    from ls_api.routes import health

    return Litestar(route_handlers=[health])
