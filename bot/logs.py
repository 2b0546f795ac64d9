"""Log lines for operators: a short constant message, then the context as key=value pairs."""
from __future__ import annotations

import json
import logging

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}
_SECRET_WORDS = ("token", "secret", "private_key", "authorization", "password")


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        base = super().format(record)
        extras = []
        for key, value in record.__dict__.items():
            if key in _STANDARD or key.startswith("_"):
                continue
            if any(w in key.lower() for w in _SECRET_WORDS):
                value = "[redacted]"
            extras.append(f"{key}={value}")
        return base + (" " + " ".join(extras) if extras else "")


def _context(record: logging.LogRecord) -> dict:
    out = {}
    for key, value in record.__dict__.items():
        if key in _STANDARD or key.startswith("_"):
            continue
        out[key] = "[redacted]" if any(w in key.lower() for w in _SECRET_WORDS) else value
    return out


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the context, and the traceback."""

    def format(self, record: logging.LogRecord) -> str:
        doc = {"time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"), "level": record.levelname,
               "logger": record.name, "message": record.getMessage(), **_context(record)}
        if record.exc_info:
            doc["traceback"] = self.formatException(record.exc_info)
        return json.dumps(doc, default=str, ensure_ascii=False)


# libraries whose DEBUG output is about their own workings, not driftbot's
_CHATTY = ("aiohttp.access", "markdown_it", "asyncio", "urllib3", "jsonschema")


def configure(level: str, fmt: str = "text") -> None:
    """Logs on stderr: ``text`` (key=value pairs) or ``json`` (one object per line)."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else
                         KeyValueFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in _CHATTY:
        logging.getLogger(name).setLevel("WARNING")
