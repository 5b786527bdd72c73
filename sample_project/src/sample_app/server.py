"""Console entry point: `sample-app [--reload] [--host H] [--port P]`."""

import argparse
import os
import sys

import bottle

from sample_app.app import app


class _Reloader(bottle.FileCheckerThread):
    """bottle reloads by raising KeyboardInterrupt in the main thread, and wsgiref swallows
    it when it lands while a request is served: an app that kept answering requests then
    never reloaded again. Once a source changed, end the process with bottle's "reload"
    exit code (its parent process starts the app again); the app holds nothing to clean up."""

    def run(self) -> None:
        super().run()  # returns once a source changed, or bottle stops
        if self.status == "reload":
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(3)


bottle.FileCheckerThread = _Reloader  # what bottle.run(reloader=True) starts


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
