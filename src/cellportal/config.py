"""One settings object for the web app, the worker and the CLI.

Values come from environment variables with the ``CELLPORTAL_`` prefix, or from a settings file named by
``CELLPORTAL_SETTINGS_FILE`` (``KEY=value`` lines, the same names). Everything local lives under
``data_dir`` unless a URL overrides it, so one variable moves a whole installation.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from cellportal.uploads.rules import parse_networks


def _settings_file() -> str | None:
    return os.environ.get("CELLPORTAL_SETTINGS_FILE")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CELLPORTAL_", env_file=_settings_file(), extra="ignore")

    data_dir: Path = Field(default=Path("./data"), description="Folder for everything local: SQLite, blobs, broker.")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default sqlite in data_dir.")
    storage_url: str | None = Field(default=None, description="file:///path or s3://bucket/prefix.")
    broker_url: str | None = Field(default=None, description="Celery broker; default a SQLite broker in data_dir.")
    public_url: str = Field(default="http://127.0.0.1:8000", description="Base URL used in permanent links.")
    secret_key: str = Field(default="dev-insecure-secret", description="Signs sessions and share links.")
    env: str = Field(default="dev", description="dev or prod; prod refuses the insecure default secret.")
    s3_endpoint_url: str | None = Field(default=None, description="Endpoint of an S3-compatible store.")
    s3_access_key_id: str | None = Field(default=None, description="S3 access key.")
    s3_secret_access_key: str | None = Field(default=None, description="S3 secret key.")
    s3_region: str = Field(default="us-east-1", description="S3 region.")
    queue_name: str = Field(default="cellportal", description="Broker queue the workers consume; one per installation.")
    admin_token: str | None = Field(default=None, description="Bearer token with admin rights (API, scripts).")
    s3_downloads: Literal["redirect", "proxy"] = Field(
        default="redirect", description="S3 downloads: presigned redirect, or streamed through the app."
    )
    job_heartbeat_seconds: float = Field(default=5.0, description="How often a running job proves it is alive.")
    job_stale_seconds: float = Field(default=60.0, description="A running job silent this long is re-queued.")
    job_max_attempts: int = Field(default=3, description="Attempts before a job is marked failed.")
    session_days: float = Field(default=14.0, description="How long a web sign-in lasts.")
    allow_signup: bool = Field(default=True, description="Anyone may create an account at /signup.")
    oidc_issuer: str | None = Field(default=None, description="OpenID Connect issuer URL; enables SSO login.")
    oidc_client_id: str | None = Field(default=None, description="OpenID Connect client id.")
    oidc_client_secret: str | None = Field(default=None, description="OpenID Connect client secret.")
    oidc_label: str = Field(default="single sign-on", description="Name of the SSO button on the login page.")
    oidc_scopes: str = Field(
        default="openid email profile", description="Scopes asked of the OpenID Connect provider (space-separated)."
    )
    upload_max_bytes: int = Field(
        default=100 * 1024**3, description="Largest file a browser (resumable) upload may announce, in bytes."
    )
    upload_expiry_hours: float = Field(
        default=24.0, description="An unfinished resumable upload untouched this long is deleted."
    )
    upload_url_allow_http: bool = Field(
        default=False, description="Also accept plain http:// URLs for upload-from-URL (https:// always)."
    )
    upload_url_private_networks: str = Field(
        default="",
        description="Comma-separated non-public networks upload-from-URL may reach (e.g. 10.1.2.0/24); "
        "empty: public addresses only.",
    )

    def model_post_init(self, __context: object) -> None:
        if self.env == "prod" and self.secret_key == "dev-insecure-secret":
            raise ValueError("CELLPORTAL_SECRET_KEY must be set when CELLPORTAL_ENV=prod")
        if bool(self.oidc_issuer) != bool(self.oidc_client_id):
            # Half a configuration would hide the SSO button (or show a broken one) without saying why.
            raise ValueError("CELLPORTAL_OIDC_ISSUER and CELLPORTAL_OIDC_CLIENT_ID are set together or not at all")
        if self.oidc_issuer and "openid" not in self.oidc_scopes.split():
            raise ValueError("CELLPORTAL_OIDC_SCOPES must include 'openid' (without it there is no ID token)")
        try:
            parse_networks(self.upload_url_private_networks)  # as UrlPolicy.of will parse it
        except ValueError as error:
            raise ValueError(f"CELLPORTAL_UPLOAD_URL_PRIVATE_NETWORKS: {error}") from None

    @property
    def oidc_enabled(self) -> bool:
        """Sign-in through OpenID Connect is offered (the issuer and the client id are both set)."""
        return bool(self.oidc_issuer and self.oidc_client_id)

    @property
    def resolved_data_dir(self) -> Path:
        return self.data_dir.expanduser().resolve()

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.resolved_data_dir / 'catalog.sqlite'}"

    @property
    def resolved_storage_url(self) -> str:
        return self.storage_url or f"file://{self.resolved_data_dir / 'blobs'}"

    @property
    def resolved_broker_url(self) -> str:
        return self.broker_url or f"sqla+sqlite:///{self.resolved_data_dir / 'broker.sqlite'}"

    @property
    def work_dir(self) -> Path:
        """Scratch space for jobs (downloads, intermediate files); never the source of truth."""
        return self.resolved_data_dir / "work"


def load_settings(**overrides: object) -> Settings:
    return Settings(**overrides)  # type: ignore[arg-type]
