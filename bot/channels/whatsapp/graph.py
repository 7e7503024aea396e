"""The Graph API calls Minga makes for WhatsApp, on httpx: send a message, upload a file,
fetch a file a resident sent. Errors come back as GraphError with Meta's code."""

from dataclasses import dataclass
from typing import Any

import httpx

# Meta's media limits: what a resident may send us, and what we may upload.
MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_AUDIO_BYTES = 16 * 1024 * 1024
MAX_DOCUMENT_BYTES = 100 * 1024 * 1024
TIMEOUT_SECONDS = 20.0


class GraphError(Exception):
    """The Graph API refused a call (`code` is Meta's error code, None for a transport
    failure or an answer without one) or could not be reached."""

    def __init__(self, message: str, *, code: int | None = None, status: int | None = None):
        super().__init__(message)
        self.code = code
        self.status = status


class TooLarge(Exception):
    """A file over the limit for its kind; it was not downloaded."""


@dataclass(frozen=True, slots=True)
class MediaInfo:
    url: str
    mime_type: str
    size: int | None


def _error(response: httpx.Response) -> GraphError:
    try:
        body = response.json().get("error") or {}
    except ValueError:
        body = {}
    code = body.get("code")
    details = (body.get("error_data") or {}).get("details") or body.get("message") or ""
    return GraphError(f"HTTP {response.status_code}, code {code}: {details}".strip(),
                      code=code if isinstance(code, int) else None,
                      status=response.status_code)  # fmt: skip


class GraphClient:
    def __init__(
        self,
        base_url: str,
        api_version: str,
        phone_number_id: str,
        access_token: str,
        *,
        max_connections: int = 32,
    ) -> None:
        self._root = f"{base_url}/{api_version}"
        self._phone = phone_number_id
        limits = httpx.Limits(max_connections=max_connections,
                              max_keepalive_connections=max_connections)  # fmt: skip
        self._http = httpx.AsyncClient(
            headers={"Authorization": f"Bearer {access_token}"},
            timeout=TIMEOUT_SECONDS,
            limits=limits,
        )

    async def close(self) -> None:
        await self._http.aclose()

    async def _call(self, method: str, url: str, **options: Any) -> dict[str, Any]:
        try:
            response = await self._http.request(method, url, **options)
        except httpx.HTTPError as error:  # time-out, connection refused, ...
            raise GraphError(f"{type(error).__name__}: {error}") from None
        if response.status_code >= 400:
            raise _error(response)
        try:
            answer: dict[str, Any] = response.json()
        except ValueError:
            raise GraphError(f"HTTP {response.status_code}: not JSON") from None
        return answer

    async def send(self, recipient: str, message: dict[str, Any]) -> str | None:
        """POST {base_url}/{api_version}/{phone_number_id}/messages; Meta's message id."""
        body = {"messaging_product": "whatsapp", "recipient_type": "individual",
                **address(recipient), **message}  # fmt: skip
        answer = await self._call("POST", f"{self._root}/{self._phone}/messages", json=body)
        sent = answer.get("messages") or [{}]
        message_id = sent[0].get("id")
        return None if message_id is None else str(message_id)

    async def upload(self, content: bytes, mime_type: str, filename: str) -> str:
        """A file for a message (.ics, an export); its media id (valid for 30 days)."""
        files = {"file": (filename, content, mime_type)}
        data = {"messaging_product": "whatsapp", "type": mime_type}
        answer = await self._call("POST", f"{self._root}/{self._phone}/media", data=data,
                                  files=files)  # fmt: skip
        media_id = answer.get("id")
        if not media_id:
            raise GraphError("media upload answered without an id")
        return str(media_id)

    async def media_info(self, media_id: str) -> MediaInfo:
        answer = await self._call("GET", f"{self._root}/{media_id}")
        size = str(answer.get("file_size"))
        return MediaInfo(str(answer.get("url") or ""), str(answer.get("mime_type") or ""),
                         int(size) if size.isdigit() else None)  # fmt: skip

    async def download(self, url: str, limit: int) -> bytes:
        """The file behind a media URL (it expires after 5 minutes), at most `limit` bytes."""
        chunks, size = [], 0
        try:
            async with self._http.stream("GET", url) as response:
                if response.status_code >= 400:
                    raise GraphError(f"media download: HTTP {response.status_code}",
                                     status=response.status_code)  # fmt: skip
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > limit:
                        raise TooLarge(f"over {limit} bytes")
                    chunks.append(chunk)
        except httpx.HTTPError as error:
            raise GraphError(f"media download: {error}") from None
        return b"".join(chunks)


def address(recipient: str) -> dict[str, str]:
    """A phone number goes in "to"; a business-scoped user id ("CO.1234...") in "recipient"."""
    return {"to": recipient} if recipient.isdigit() else {"recipient": recipient}
