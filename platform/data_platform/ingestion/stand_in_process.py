"""``python -m data_platform.ingestion.stand_in_process RESULT``: one call of a local stand-in, in an
interpreter of its own (see ``advance_stand_in``). It reads ``(domain, reference, folder, as_of)``
pickled on stdin and writes ``(report, None)`` or ``(None, exception)`` pickled to RESULT; the
exception carries the stand-in's traceback as a note."""

from __future__ import annotations

import pickle
import sys
import traceback
from pathlib import Path

from data_platform.domains import resolve_callable


def main(result: Path) -> int:
    domain, reference, folder, as_of = pickle.load(sys.stdin.buffer)
    try:
        outcome = (resolve_callable(domain, reference)(folder, as_of), None)
    except Exception as error:
        error.add_note(f"in the stand-in's process:\n{''.join(traceback.format_exception(error)).rstrip()}")
        outcome = (None, error)
    try:
        data = pickle.dumps(outcome)
    except Exception:  # an exception (or report) that cannot cross a process boundary: its text does
        data = pickle.dumps((None, RuntimeError("".join(traceback.format_exception(outcome[1] or sys.exc_info()[1])).rstrip())))
    result.write_bytes(data)
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
