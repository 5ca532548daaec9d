"""Export files named by https URL: streamed into a temporary file that lives until the read ends.

Signed download links redirect (to storage), so redirects are followed, each target checked first;
a URL is shown in messages without user:password or query (a signed URL's query is a credential).

A speed floor, as curl's --speed-limit/--speed-time: a download whose average speed over the last
window (60 s) falls below the floor (1 KiB/s) is abandoned and retried, then fails naming the bytes
received and the speed. Export sizes vary too much for a deadline on the whole download, and a
server that trickles a byte every few seconds never trips the read timeout (the longest silence
between two bytes). A silence as long as the window is a speed of 0, so the read timeout of a
download is the window at most. The temporary folder goes when the read ends, when an attempt
fails (its partial file), and on SIGINT/SIGTERM (signals.removed_on_stop).
"""

from __future__ import annotations

import tempfile
import time
from collections import deque
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests
import urllib3

from ..runtime.limits import seconds_from_env, timeouts
from ..runtime.signals import removed_on_stop
from .errors import ExportError

# Downloads: a whole export, attachments included, is rarely over a few GB.
MAX_DOWNLOAD_BYTES = 16 * 1024**3
DOWNLOAD_ATTEMPTS = 3
MAX_REDIRECTS = 5
RETRY_BACKOFF_SECONDS = 2.0  # doubled after each failed attempt
CHUNK = 1 << 16
# Documented in the README ("Timeouts and waits"), settable as the other timeouts are.
MIN_SPEED_ENV = "SOURCE_PIVOTAL_TRACKER_MIN_DOWNLOAD_SPEED"
MIN_SPEED_WINDOW_ENV = "SOURCE_PIVOTAL_TRACKER_MIN_DOWNLOAD_SPEED_SECONDS"
MIN_SPEED_BYTES_PER_SECOND = 1024.0
MIN_SPEED_WINDOW_SECONDS = 60.0


class TooSlow(requests.RequestException):
    """A download below the speed floor; retried as any failed download is."""


class SpeedFloor:
    """The average speed over a sliding window, against a floor.

    Samples are kept a twentieth of the window apart, so a fast download holds ~20 of them,
    not one per chunk.
    """

    def __init__(self) -> None:
        self.floor = seconds_from_env(MIN_SPEED_ENV, MIN_SPEED_BYTES_PER_SECOND)
        self.window = seconds_from_env(MIN_SPEED_WINDOW_ENV, MIN_SPEED_WINDOW_SECONDS)
        self._samples: deque[tuple[float, int]] = deque([(time.monotonic(), 0)])

    def observe(self, received: int) -> None:
        """Raises TooSlow once the bytes received in the last window are below the floor."""
        now = time.monotonic()
        if now - self._samples[-1][0] >= self.window / 20:
            self._samples.append((now, received))
        while len(self._samples) > 1 and self._samples[1][0] <= now - self.window:
            self._samples.popleft()
        since, then = self._samples[0]
        if now - since < self.window:
            return
        speed = (received - then) / (now - since)
        if speed < self.floor:
            raise TooSlow(
                f"the server sent {speed:,.0f} bytes/s over the last {now - since:.1f} s, below the floor "
                f"of {self.floor:,.0f} bytes/s over {self.window:g} s ({received:,} bytes received)"
            )


def shown_url(url: str) -> str:
    """The URL without user:password, query or fragment: a signed URL's query is a credential."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def download(url: str, url_allowed: Callable[[str], bool], stack: ExitStack) -> Path:
    """Streams the URL into a temporary file, deleted when the read ends; retries what may pass."""
    shown = shown_url(url)
    folder = Path(stack.enter_context(removed_on_stop(tempfile.mkdtemp(prefix="tracker-export-"))))
    target = folder / (Path(urlsplit(url).path).name or "download")
    problem = ""
    for attempt in range(DOWNLOAD_ATTEMPTS):
        if attempt:
            time.sleep(RETRY_BACKOFF_SECONDS * 2 ** (attempt - 1))
        try:
            with _followed(url, url_allowed, shown) as response:
                if response.status_code >= 500 or response.status_code == 429:
                    problem = f"the server answered HTTP {response.status_code}"
                    continue
                if response.status_code != 200:
                    raise ExportError(
                        shown, f"cannot be downloaded: the server answered HTTP {response.status_code}"
                    )
                _save(response, target, shown)
                return target
        except TooSlow as error:
            problem = str(error)
        except requests.RequestException as error:
            problem = f"the download failed ({type(error).__name__})"
        target.unlink(missing_ok=True)  # a partial file: nothing of it is read
    raise ExportError(shown, f"cannot be downloaded after {DOWNLOAD_ATTEMPTS} attempts: {problem}")


def _followed(url: str, url_allowed: Callable[[str], bool], shown: str) -> requests.Response:
    """The answer to GET url after its redirects, each target checked before anything is sent to it.

    Signed download links redirect (to storage), so redirects are followed here, unlike the API's;
    but only to URLs export_files itself would accept; another host gets no user:password of the URL.
    """
    for _ in range(MAX_REDIRECTS + 1):
        connect, read = timeouts()
        window = seconds_from_env(MIN_SPEED_WINDOW_ENV, MIN_SPEED_WINDOW_SECONDS)
        response = requests.get(url, stream=True, timeout=(connect, min(read, window)), allow_redirects=False)
        if not response.is_redirect:
            return response
        response.close()
        url = urljoin(url, response.headers["Location"])
        if not url_allowed(url):
            raise ExportError(shown, "was redirected to a URL that is not https")
    raise ExportError(shown, f"was redirected more than {MAX_REDIRECTS} times")


def _save(response: requests.Response, target: Path, shown: str) -> None:
    written = 0
    floor = SpeedFloor()
    with target.open("wb") as file:
        # read1 returns what has arrived: the floor is measured as bytes come, however slowly.
        while chunk := _read1(response):
            written += len(chunk)
            floor.observe(written)
            if written > MAX_DOWNLOAD_BYTES:
                raise ExportError(
                    shown, f"refused: larger than the download limit of {MAX_DOWNLOAD_BYTES} bytes"
                )
            file.write(chunk)
    expected = response.headers.get("Content-Length")
    if (
        expected
        and expected.isdigit()
        and int(expected) != written
        and "Content-Encoding" not in response.headers
    ):
        raise requests.ConnectionError(f"truncated: {written} of {expected} bytes")


def _read1(response: requests.Response) -> bytes:
    try:
        return response.raw.read1(CHUNK, decode_content=True)  # type: ignore[no-any-return]
    except urllib3.exceptions.HTTPError as error:  # as requests' iter_content would raise them
        raise requests.ConnectionError(error) from error
