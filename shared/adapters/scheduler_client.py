"""The official Cloud Scheduler client, pointed at the local emulator when one is configured."""

from __future__ import annotations

import grpc
from google.auth.credentials import AnonymousCredentials
from google.cloud.scheduler_v1 import CloudSchedulerClient
from google.cloud.scheduler_v1.services.cloud_scheduler.transports import (
    CloudSchedulerGrpcTransport,
)

__all__ = ["scheduler_client"]


def scheduler_client(emulator_host: str | None) -> CloudSchedulerClient:
    """Return a CloudSchedulerClient for the emulator at ``emulator_host``, else for the cloud."""
    if not emulator_host:
        return CloudSchedulerClient()
    # The emulator speaks plaintext gRPC and checks no identity. Given a channel, the transport
    # already skips the Application Default Credentials lookup (a dev machine may have none);
    # anonymous credentials state that intent instead of leaving it to that detail.
    transport = CloudSchedulerGrpcTransport(
        channel=grpc.insecure_channel(emulator_host),
        credentials=AnonymousCredentials(),
    )
    return CloudSchedulerClient(transport=transport)
