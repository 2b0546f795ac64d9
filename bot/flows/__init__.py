"""The App's job flows, one module per concern, composed into DriftService (bot/service.py)."""
