"""Console entry point: `sample-app [--reload] [--host H] [--port P]`."""

import argparse

import bottle

from sample_app.app import app


def main() -> None:
    parser = argparse.ArgumentParser(prog="sample-app")
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--reload", action="store_true", help="restart when a source file changes")
    args = parser.parse_args()
    # bottle's reloader runs the app in a child process and restarts it when a
    # loaded module's file changes; a short interval keeps edits snappy.
    bottle.run(app, host=args.host, port=args.port, reloader=args.reload, interval=0.2, quiet=False)


if __name__ == "__main__":
    main()
