"""``data-platform dev`` names the address it serves: Dagster moves to another port without a word
when its port is taken; the platform keeps a port asked for and says which one it chose otherwise."""

import contextlib
import socket

from data_platform.cli import DEFAULT_PORT, serving_address


def test_a_port_asked_for_is_kept_and_the_other_arguments_pass_through():
    assert serving_address(["-h", "0.0.0.0", "--port=4123", "--verbose"]) == ("0.0.0.0", 4123, ["--verbose"])


def test_with_no_port_asked_for_a_taken_default_is_replaced_and_said(capsys):
    with socket.socket() as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        with contextlib.suppress(OSError):  # already taken by something else: the same situation
            holder.bind(("127.0.0.1", DEFAULT_PORT))
        holder.listen()
        host, port, rest = serving_address([])
    assert (host, rest) == ("127.0.0.1", []) and port != DEFAULT_PORT
    assert f"port {DEFAULT_PORT} is taken, serving on port {port}" in capsys.readouterr().out
