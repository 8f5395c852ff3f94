"""The server-less Celery broker (``filesystem://``) with messages written atomically.

kombu's file transport creates a message file under its final name and then writes into it. A
worker polling the same folder can take the file in between, read nothing and stop with an
"Unrecoverable error: JSONDecodeError" (seen here about 3 times in 600 messages under load, and
in the end-to-end tests). This transport writes each message under a temporary name the workers
ignore and renames it into place, which is atomic on one filesystem.

:func:`register` makes it the transport for every ``filesystem://`` URL in the process; the Celery
app calls it when it is made (rolemodel_site/celery.py). Its channel makes the broker's folders
when a process first connects, so reading the settings writes nothing.
"""
import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

TEMPORARY_SUFFIX = ".writing"  # kombu takes only files whose name ends in ".<queue>.msg"


class Channel(filesystem.Channel):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for folder in (self.data_folder_in, self.data_folder_out, self.processed_folder, self.control_folder):
            os.makedirs(folder, exist_ok=True)

    def _put(self, queue, payload, **kwargs):
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        temporary = final + TEMPORARY_SUFFIX
        try:
            with open(temporary, "wb") as handle:
                handle.write(str_to_bytes(dumps(payload)))
            os.replace(temporary, final)
        except OSError as error:
            raise ChannelError(f"Cannot add file {final!r} to directory") from error


class Transport(filesystem.Transport):
    Channel = Channel


def register() -> None:
    """Make this the transport of ``filesystem://`` URLs in this process (kombu keeps one alias table)."""
    TRANSPORT_ALIASES["filesystem"] = f"{__name__}:Transport"
