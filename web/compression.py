"""Response compression (gzip, Litestar's ``CompressionConfig``): pages, CSS, JS and JSON travel
compressed, so an attendee's phone loads a page in a few tens of kilobytes.

Only text is compressed: materials (PDF, images, office files), exports and other binary
responses are already compressed or not worth the CPU, and go out as they are. A route whose
answers are always small (a scan's) opts out with ``opt={"skip_compression": True}``.
"""

from __future__ import annotations

from litestar.config.compression import CompressionConfig
from litestar.datastructures import MutableScopeHeaders
from litestar.middleware.compression import CompressionMiddleware

SKIP_COMPRESSION = "skip_compression"
COMPRESSIBLE_PREFIXES = ("text/", "application/json", "application/javascript", "application/xml", "image/svg+xml",
                         "application/problem+json", "application/vnd.oai.openapi")


def compressible(content_type: str) -> bool:
    return content_type.strip().lower().startswith(COMPRESSIBLE_PREFIXES)


class TextCompressionMiddleware(CompressionMiddleware):
    """Litestar's compression middleware, applied only to text responses not already encoded."""

    def create_compression_send_wrapper(self, send, compression_encoding, scope):
        compressing = super().create_compression_send_wrapper(send=send, compression_encoding=compression_encoding, scope=scope)
        chosen = None

        async def send_wrapper(message) -> None:
            nonlocal chosen
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders(message)
                plain = "content-encoding" in headers or not compressible(headers.get("content-type", ""))
                chosen = send if plain else compressing
            await (chosen or compressing)(message)

        return send_wrapper


def compression_config() -> CompressionConfig:
    # level 6: nearly the size of level 9 at a fraction of the CPU
    return CompressionConfig(backend="gzip", gzip_compress_level=6, minimum_size=500, middleware_class=TextCompressionMiddleware,
                             exclude_opt_key=SKIP_COMPRESSION)
