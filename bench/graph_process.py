"""The fake Graph API in a process of its own, for the webhook benchmark (so that posting the
webhooks does not slow down what Minga's replies meet). GET /count: messages received.

python -m bench.graph_process --port P"""

import argparse
import asyncio

from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from tests.fakes.graph_api import FakeGraphApi


async def main(port: int) -> None:
    graph = FakeGraphApi()
    graph.keep = False

    async def count(request: Request) -> PlainTextResponse:
        return PlainTextResponse(str(graph.count))

    graph.app.router.routes.insert(0, Route("/count", count))
    await graph.start(port)
    await asyncio.Event().wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    asyncio.run(main(parser.parse_args().port))
