"""A connector whose output is scripted by its config: for testing how the runner treats bad connectors.

config: {"streams": [AirbyteStream, ...], "lines": ["raw stdout line", ...], "exit_code": 0,
         "hang": false}   # hang: after its lines, write nothing more and never exit (a deadlocked connector);
                          # "worker": the same, and a worker process it started holds its stdout open too
                          # (a connector's deadlocked multiprocessing pool), its pid written to config["worker_pid_file"]
         "cut": "...",    # after its lines, write this without a newline and die by SIGKILL (the OOM killer mid-line)
         "pause": null,   # [lines, seconds]: sleep this long after every so many lines (a source paced by its API)
         "resume": false} # true: with --state, a stream's lines up to its stored cursor (a record's id, a
                          # STATE's cursor) are skipped, as a real incremental source resumes
"""

import json
import sys
from pathlib import Path

command = sys.argv[1]
config = json.loads(Path(sys.argv[sys.argv.index("--config") + 1]).read_text()) if "--config" in sys.argv else {}
if command == "spec":
    print(json.dumps({"type": "SPEC", "spec": {"connectionSpecification": {"type": "object"}}}))
elif command == "check":
    print(json.dumps({"type": "CONNECTION_STATUS", "connectionStatus": {"status": "SUCCEEDED"}}))
elif command == "discover":
    print(json.dumps({"type": "CATALOG", "catalog": {"streams": config["streams"]}}))
elif command == "read":
    resumed = {}
    if config.get("resume") and "--state" in sys.argv:
        for message in json.loads(Path(sys.argv[sys.argv.index("--state") + 1]).read_text()):
            resumed[message["stream"]["stream_descriptor"]["name"]] = message["stream"]["stream_state"]["cursor"]

    def after_state(line: str) -> bool:
        message = json.loads(line)
        if message["type"] == "RECORD":
            return message["record"]["data"]["id"] > resumed.get(message["record"]["stream"], 0)
        stream = message["state"]["stream"]
        return stream["stream_state"]["cursor"] > resumed.get(stream["stream_descriptor"]["name"], 0)

    every, pause = config.get("pause") or (0, 0)
    for number, line in enumerate(config["lines"], 1):
        if not resumed or after_state(line):
            print(line, flush=not every)
        if every and number % every == 0:
            sys.stdout.flush()
            import time

            time.sleep(pause)
    if config.get("cut"):
        import os
        import signal

        sys.stdout.write(config["cut"])
        sys.stdout.flush()
        os.kill(os.getpid(), signal.SIGKILL)
    if config.get("hang"):
        import subprocess
        import time

        if config["hang"] == "worker":
            worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])  # inherits stdout
            Path(config["worker_pid_file"]).write_text(str(worker.pid))
        time.sleep(3600)
    sys.exit(config.get("exit_code", 0))
