"""The staff and operations console served by the hub's HTTP app (see ``console.console_router``)."""

from hub.entrypoints.http.console.console import console_router

__all__ = ["console_router"]
