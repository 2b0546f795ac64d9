"""The app's settings, from the environment (names GitHub App frameworks already use)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

DEFAULT_API = "https://api.github.com"


class SettingsError(Exception):
    """A setting is missing or wrong; the message names it and says what to do."""


@dataclass(frozen=True)
class Settings:
    app_id: str
    private_key: str = field(repr=False)
    webhook_secret: str = field(repr=False)
    api_url: str = DEFAULT_API
    port: int = 8000
    store: str = "driftbot.sqlite3"
    log_level: str = "INFO"
    workers: int = 4
    onboarding: bool = True  # a pull request proposing a config, for repositories that have none
    analysis_seconds: float = 300.0  # the longest one analysis may run before it gives up
    log_format: str = "text"  # text | json
    engine_processes: int = 0  # worker processes for analyses (0: one thread in this process)
    queue: str = "auto"  # auto (shared with a PostgreSQL store, else in-process) | memory | postgres

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        missing = []
        app_id = env.get("APP_ID", "").strip()
        if not app_id:
            missing.append("APP_ID (the numeric id on the app's settings page)")
        elif not app_id.isdigit():
            raise SettingsError(f"APP_ID must be the app's numeric id, got {app_id!r}")
        secret = env.get("WEBHOOK_SECRET", "")
        if not secret:
            missing.append("WEBHOOK_SECRET (the secret set on the app's webhook; driftbot never accepts unsigned "
                           "deliveries)")
        key = env.get("PRIVATE_KEY", "")
        key_path = env.get("PRIVATE_KEY_PATH", "")
        if not key and key_path:
            try:
                key = Path(key_path).read_text(encoding="utf-8")
            except OSError as exc:
                raise SettingsError(f"PRIVATE_KEY_PATH={key_path}: cannot read it ({exc.strerror or exc})") from None
        if not key:
            missing.append("PRIVATE_KEY (PEM text) or PRIVATE_KEY_PATH (a .pem file)")
        if missing:
            raise SettingsError("cannot start without its settings; set " + "; ".join(missing) + ".")
        key = key.replace("\\n", "\n").strip() + "\n"
        if "-----BEGIN" not in key or "PRIVATE KEY-----" not in key:
            raise SettingsError("PRIVATE_KEY is not a PEM private key (it should start with "
                                "'-----BEGIN RSA PRIVATE KEY-----'); download one from the app's settings page")
        api = (env.get("GITHUB_API_URL") or DEFAULT_API).rstrip("/")
        if not api.startswith(("https://", "http://")):
            raise SettingsError(f"GITHUB_API_URL must be an http(s) URL, got {api!r} (GitHub Enterprise Server: "
                                "https://HOST/api/v3)")
        try:
            port = int(env.get("PORT", "8000"))
            workers = int(env.get("DRIFTBOT_WORKERS", "4"))
        except ValueError as exc:
            raise SettingsError(f"PORT and DRIFTBOT_WORKERS must be whole numbers ({exc})") from None
        level = env.get("DRIFTBOT_LOG_LEVEL", "INFO").upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise SettingsError(f"DRIFTBOT_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {level!r}")
        try:
            budget = float(env.get("DRIFTBOT_ANALYSIS_SECONDS", "300"))
        except ValueError:
            budget = -1.0
        if not 1 <= budget <= 86400:
            raise SettingsError("DRIFTBOT_ANALYSIS_SECONDS must be a number of seconds from 1 to 86400, got "
                                f"{env.get('DRIFTBOT_ANALYSIS_SECONDS')!r}")
        try:
            # one per core, at least 2: one installation uses all but one, so another's analysis finds a
            # core of its own at once (a lone installation leaves one idle: the price of that promise)
            processes = int(env.get("DRIFTBOT_ENGINE_PROCESSES", str(min(8, max(2, os.cpu_count() or 1)))))
        except ValueError:
            processes = -1
        if not 0 <= processes <= 64:
            raise SettingsError("DRIFTBOT_ENGINE_PROCESSES must be a whole number from 0 to 64 (0: analyses run on a "
                                f"thread of the server), got {env.get('DRIFTBOT_ENGINE_PROCESSES')!r}")
        log_format = env.get("DRIFTBOT_LOG_FORMAT", "text").strip().lower()
        if log_format not in ("text", "json"):
            raise SettingsError(f"DRIFTBOT_LOG_FORMAT must be text or json, got {log_format!r}")
        onboarding = env.get("DRIFTBOT_ONBOARDING", "on").strip().lower()
        if onboarding not in ("on", "off", "true", "false", "1", "0", "yes", "no"):
            raise SettingsError(f"DRIFTBOT_ONBOARDING must be on or off, got {onboarding!r}")
        queue = env.get("DRIFTBOT_QUEUE", "auto").strip().lower()
        if queue not in ("auto", "memory", "postgres"):
            raise SettingsError(f"DRIFTBOT_QUEUE must be auto, memory or postgres, got {queue!r}")
        return cls(app_id=app_id, private_key=key, webhook_secret=secret, api_url=api, port=port, queue=queue,
                   store=env.get("DRIFTBOT_STORE", "driftbot.sqlite3"), log_level=level, workers=max(1, workers),
                   onboarding=onboarding in ("on", "true", "1", "yes"), analysis_seconds=budget,
                   log_format=log_format, engine_processes=processes)
