"""The django-storages configuration for media on an S3-compatible bucket (settings.STORAGES)."""

from __future__ import annotations


def bucket_storage(*, bucket: str, endpoint_url: str = "", region: str = "", access_key: str = "",
                   secret_key: str = "", prefix: str = "", addressing_style: str = "auto",
                   url_ttl_seconds: int = 300) -> dict:
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": endpoint_url or None,
            "region_name": region or None,
            # Unset keys leave boto3 its own chain (instance role, ~/.aws, AWS_* variables).
            "access_key": access_key or None,
            "secret_key": secret_key or None,
            "location": prefix.strip("/"),
            "addressing_style": None if addressing_style == "auto" else addressing_style,
            "signature_version": "s3v4",
            "default_acl": None,  # objects stay private: only presigned links or our views reach them
            "querystring_auth": True,
            "querystring_expire": url_ttl_seconds,
            "file_overwrite": False,
            # Reading a stored file spools it: above this size to a temporary file, not memory.
            "max_memory_size": 4 * 1024 * 1024,
        },
    }
