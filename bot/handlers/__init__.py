"""Webhook handlers, one module per concern, each with its own Router; composed once here.
Handlers only turn an event into a job (ids, never tokens) and queue it."""
from gidgethub import routing

from . import checks, commands, installation, issues, pull_request, push, repository

router = routing.Router(pull_request.router, checks.router, push.router, installation.router, commands.router,
                        repository.router, issues.router)
