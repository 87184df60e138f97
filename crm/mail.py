"""Email in development: each message becomes a file, and the log says one line about it.

Django's console backend prints every message whole, so `make run`'s worker log drowned in
HTML emails. This backend writes each message to its own ``.eml`` file under
``EMAIL_FILE_PATH`` (any mail client opens it) and logs who it was for and where it is.
"""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

logger = logging.getLogger(__name__)


class DevelopmentEmailBackend(BaseEmailBackend):
    def __init__(self, *, file_path: str | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.folder = Path(file_path or settings.EMAIL_FILE_PATH)

    def send_messages(self, email_messages) -> int:
        sent = 0
        for message in email_messages:
            try:
                path = self._write(message)
            except OSError:
                if not self.fail_silently:
                    raise
                continue
            logger.info(
                "Email to %s, “%s”: %s", ", ".join(message.recipients()), message.subject, path
            )
            sent += 1
        return sent

    def _write(self, message) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"{timezone.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:8]}.eml"
        path = self.folder / name
        path.write_bytes(message.message().as_bytes())
        return path
