"""The container's health check: exit 0 when `minga run` answers 200 on /healthz.

Run by Docker inside the container (Dockerfile's HEALTHCHECK) with the image's Python, so the
slim image needs no curl. The port follows MINGA_WEB__PORT as `minga run` does (8080 else).
/healthz never asks the database: a database outage does not restart healthy workers.
"""

import os
import sys
import urllib.error
import urllib.request


def main() -> int:
    """0 if healthy, 1 with the reason on stderr otherwise (Docker keeps it in `inspect`)."""
    port = os.environ.get("MINGA_WEB__PORT", "8080")
    url = f"http://127.0.0.1:{port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return 0 if response.status == 200 else 1
    except urllib.error.HTTPError as error:
        print(f"{url}: {error.code} {error.read(300).decode('utf-8', 'replace')}", file=sys.stderr)
    except OSError as error:
        print(f"{url}: {error}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
