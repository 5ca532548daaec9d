"""Local emulator of the Pivotal Tracker REST API v5 (the real service shut down in 2025).

from integration_tests.sandbox import Sandbox, SandboxOptions

with Sandbox(SandboxOptions(projects=3)) as sb:
    requests.get(sb.url + "/me", headers={"X-TrackerToken": sb.api_token})
    sb.store.truth("stories")
"""

from .options import SandboxOptions
from .server import Sandbox

__all__ = ["Sandbox", "SandboxOptions"]
