"""Export files named by https URL: streamed into a temporary file that lives until the read ends.

Signed download links redirect (to storage), so redirects are followed, each target checked first;
a URL is shown in messages without user:password or query (a signed URL's query is a credential).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests

from ..http_safety import timeouts
from .errors import ExportError

# Downloads: a whole export, attachments included, is rarely over a few GB.
MAX_DOWNLOAD_BYTES = 16 * 1024**3
DOWNLOAD_ATTEMPTS = 3
MAX_REDIRECTS = 5
RETRY_BACKOFF_SECONDS = 2.0  # doubled after each failed attempt
CHUNK = 1 << 16


def shown_url(url: str) -> str:
    """The URL without user:password, query or fragment: a signed URL's query is a credential."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def download(url: str, url_allowed: Callable[[str], bool], stack: ExitStack) -> Path:
    """Streams the URL into a temporary file, deleted when the read ends; retries what may pass."""
    shown = shown_url(url)
    folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tracker-export-")))
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
        except requests.RequestException as error:
            problem = f"the download failed ({type(error).__name__})"
    raise ExportError(shown, f"cannot be downloaded after {DOWNLOAD_ATTEMPTS} attempts: {problem}")


def _followed(url: str, url_allowed: Callable[[str], bool], shown: str) -> requests.Response:
    """The answer to GET url after its redirects, each target checked before anything is sent to it.

    Signed download links redirect (to storage), so redirects are followed here, unlike the API's;
    but only to URLs export_files itself would accept; another host gets no user:password of the URL.
    """
    for _ in range(MAX_REDIRECTS + 1):
        response = requests.get(url, stream=True, timeout=timeouts(), allow_redirects=False)
        if not response.is_redirect:
            return response
        response.close()
        url = urljoin(url, response.headers["Location"])
        if not url_allowed(url):
            raise ExportError(shown, "was redirected to a URL that is not https")
    raise ExportError(shown, f"was redirected more than {MAX_REDIRECTS} times")


def _save(response: requests.Response, target: Path, shown: str) -> None:
    written = 0
    with target.open("wb") as file:
        for chunk in response.iter_content(CHUNK):
            written += len(chunk)
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
