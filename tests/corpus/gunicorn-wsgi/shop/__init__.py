import bottle

from shop.views import health


def create_app() -> bottle.Bottle:
    app = bottle.Bottle()
    app.route("/health", callback=health)
    return app
