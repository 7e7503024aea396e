"""The baseline of the webhook benchmark: a bare starlette app that checks Meta's signature
and answers 200, nothing else. python -m bench.signature_app --port P --secret S"""

import argparse
import hashlib
import hmac

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def app(secret: bytes) -> Starlette:
    async def receive(request: Request) -> Response:
        body = await request.body()
        expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
        given = request.headers.get("x-hub-signature-256", "")
        return Response(status_code=200 if hmac.compare_digest(expected, given) else 401)

    return Starlette(routes=[Route("/webhooks/whatsapp", receive, methods=["POST"])])


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--secret", required=True)
    args = parser.parse_args()
    uvicorn.run(app(args.secret.encode()), host="127.0.0.1", port=args.port, log_level="warning",
                access_log=False, lifespan="off")  # fmt: skip
