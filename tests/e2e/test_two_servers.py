"""Past one machine: two `streamlit run` servers on two ports share one PostgreSQL board, as replicas behind a
load balancer would. A digit sent through one server's page appears on the other server's board page.

A throwaway PostgreSQL cluster (tests/pg_cluster.py); without PostgreSQL or Chromium this skips locally
and fails in CI.
"""

from __future__ import annotations

import re

import pytest

from tests import board_page as bp
from tests.appserver import AppServer, ServerError
from tests.helpers import digit_png
from tests.pg_cluster import cluster_or_skip
from vae.board import URL_ENV, Board

STEP_TIMEOUT_MS = 90_000  # two servers and a browser on a shared machine


@pytest.fixture(scope="module")
def two_servers(tmp_path_factory):
    """(server A, server B, the board's store): both servers on one PostgreSQL board, each with its own runs/."""
    folder = tmp_path_factory.mktemp("two-servers")
    with cluster_or_skip() as cluster:
        url = cluster.new_database()
        servers = [AppServer(runs_dir=folder / f"runs-{name}", log=folder / f"{name}.log") for name in "ab"]
        try:
            for server in servers:
                server.env[URL_ENV] = url
                server.start()
        except ServerError as err:
            for server in servers:
                server.stop()
            pytest.fail(str(err))
        store = Board(url)
        try:
            yield *servers, store
        finally:
            store.close()
            for server in servers:
                server.stop()


def test_a_digit_sent_through_one_server_appears_on_the_other_servers_board(browser, two_servers):
    server_a, server_b, store = two_servers
    assert server_a.port != server_b.port
    context = {"viewport": {"width": 1400, "height": 1000}}
    board = browser.new_context(**context).new_page()
    board.set_default_timeout(STEP_TIMEOUT_MS)
    board.goto(server_b.base_url + bp.BOARD_PATH)
    board.wait_for_function(bp.BOARD_READY_JS, timeout=STEP_TIMEOUT_MS, polling=100)
    board.evaluate(bp.WATCH_BOARD_JS)

    student = browser.new_context(**context).new_page()
    student.set_default_timeout(STEP_TIMEOUT_MS)
    student.goto(server_a.base_url)
    student.locator(bp.PICTURE_INPUT).set_input_files(
        files=[{"name": "four.png", "mimeType": "image/png", "buffer": digit_png()}]
    )
    student.locator(bp.PILLS).filter(has_text=re.compile("^4$")).click()
    student.get_by_role("button", name=bp.SEND_LABEL).click()
    student.get_by_text(bp.sent_text(4)).wait_for()

    [sent] = store.all("default")
    assert sent.digit == 4
    board.wait_for_function(bp.SEEN_ID_JS, arg=sent.id, timeout=STEP_TIMEOUT_MS, polling=50)
    board.get_by_text(re.compile(r"^Digits on the board: 1 · browsers that sent one: 1 ·")).wait_for()
    assert board.evaluate(bp.STILL_LOADED_JS), "the board page reloaded"
    print(f"server B's board showed server A's digit {board.evaluate(bp.SEEN_JS)[str(sent.id)] / 1000 - sent.time:.2f} s"
          " after the store took it")  # fmt: skip
