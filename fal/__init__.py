"""fal's queue protocol: the client, its errors, media extraction and a local simulator.

Plain Python over httpx; nothing here knows about Django.
"""

from fal.app_id import AppId, InvalidModelId, parse_model_id
from fal.client import (
    Completed,
    FalClient,
    FileDownload,
    InProgress,
    LogLine,
    Queued,
    RequestHandle,
    RetryPolicy,
    Status,
)
from fal.errors import (
    AuthenticationError,
    FalError,
    FieldError,
    NetworkError,
    NotFoundError,
    PaymentRequiredError,
    ProtocolError,
    RateLimitError,
    RequestError,
    SubmitOutcomeUnknown,
    UnsafeURLError,
    UpstreamError,
    ValidationError,
)
from fal.media import MediaFile, extract_media

__all__ = [
    "AppId", "AuthenticationError", "Completed", "FalClient", "FalError", "FieldError", "FileDownload",
    "InProgress", "InvalidModelId", "LogLine", "MediaFile", "NetworkError", "NotFoundError",
    "PaymentRequiredError", "ProtocolError", "Queued", "RateLimitError", "RequestError", "RequestHandle",
    "RetryPolicy", "Status", "SubmitOutcomeUnknown", "UnsafeURLError", "UpstreamError", "ValidationError", "extract_media",
    "parse_model_id",
]
