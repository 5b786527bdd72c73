from litestar import Litestar

from ls_api.routes import health

app = Litestar(route_handlers=[health])
