"""Serve the app with gunicorn: several worker processes sharing one SQLite file in WAL mode."""

from __future__ import annotations

from gunicorn.app.base import BaseApplication


class _Gunicorn(BaseApplication):
    """Run an already created Flask app under gunicorn with options given in code."""

    def __init__(self, app, options: dict):
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        """Apply the options to gunicorn's configuration."""
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        """Hand gunicorn the WSGI app."""
        return self.application


def serve(app, host: str, port: int, workers: int, threads: int = 4, on_ready=None) -> None:
    """Serve `app` on host:port with `workers` processes of `threads` threads until stopped.

    `on_ready()` runs in the main process once the workers are started.
    """
    _Gunicorn(
        app,
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "worker_class": "gthread",
            "threads": threads,
            # Forking after the app is created shares its imported libraries between workers.
            "preload_app": True,
            "accesslog": None,
            "errorlog": "-",
            "loglevel": "warning",
            "timeout": 60,
            "graceful_timeout": 10,
            **({"when_ready": lambda _server: on_ready()} if on_ready else {}),
        },
    ).run()
