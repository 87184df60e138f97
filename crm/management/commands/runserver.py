"""``runserver`` for development, with room for a whole sales floor at once.

Django's development server lets only 10 connections wait to be accepted: 40 reps' browsers
dropping cards at the same moment overflowed it, and some were reset before any view ran.
This keeps whitenoise's development behaviour (static files served as in production) and
lets 256 connections wait.
"""

from django.core.servers.basehttp import WSGIServer
from whitenoise.runserver_nostatic.management.commands.runserver import (
    Command as StaticFilesAsInProduction,
)


class RoomyWSGIServer(WSGIServer):
    request_queue_size = 256


class Command(StaticFilesAsInProduction):
    server_cls = RoomyWSGIServer
