"""Scale-out services for the tests in this folder: PostgreSQL, Redis, a local S3 server.

PostgreSQL (127.0.0.1:5432, user postgres) and Redis (127.0.0.1:6379) must be running; the
tests skip with a reason when they are not (never under CI=true, where a skip fails).
ATELIER_TEST_POSTGRES_URL / ATELIER_TEST_REDIS_URL point elsewhere. The S3 server is
moto's, started here on a free port.
"""

from __future__ import annotations

import pytest

from tests.scale.cluster import ScratchDatabase, ScratchRedis, free_port, postgres_problem, redis_problem

S3_BUCKET = "atelier-test-media"
S3_KEYS = {"S3_ACCESS_KEY_ID": "test-access-key", "S3_SECRET_ACCESS_KEY": "test-secret-key"}


@pytest.fixture
def postgres_database():
    problem = postgres_problem()
    if problem:
        pytest.skip(f"{problem}. Start PostgreSQL (apt-get install postgresql) or set ATELIER_TEST_POSTGRES_URL.")
    with ScratchDatabase() as database:
        yield database


@pytest.fixture
def redis_database():
    problem = redis_problem()
    if problem:
        pytest.skip(f"{problem}. Start Redis (apt-get install redis-server) or set ATELIER_TEST_REDIS_URL.")
    database = ScratchRedis()
    yield database
    database.close()


@pytest.fixture(scope="session")
def s3_server():
    """moto's S3 server on 127.0.0.1, with an empty bucket; yields its endpoint URL."""
    try:
        import boto3
        from moto.server import ThreadedMotoServer
    except ImportError as error:
        pytest.skip(f"{error.name} is missing: pip install -e '.[test]' (moto[server], django-storages[s3]).")
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=S3_KEYS["S3_ACCESS_KEY_ID"],
                 aws_secret_access_key=S3_KEYS["S3_SECRET_ACCESS_KEY"]).create_bucket(Bucket=S3_BUCKET)
    yield endpoint
    server.stop()


def bucket_client(endpoint: str):
    import boto3

    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id=S3_KEYS["S3_ACCESS_KEY_ID"],
                        aws_secret_access_key=S3_KEYS["S3_SECRET_ACCESS_KEY"])


def bucket_keys(endpoint: str, prefix: str = "") -> set[str]:
    listing = bucket_client(endpoint).list_objects_v2(Bucket=S3_BUCKET, Prefix=prefix)
    return {item["Key"] for item in listing.get("Contents", [])}
