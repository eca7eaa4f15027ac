"""Run a connector command, pass on its first N stdout lines, then SIGKILL it and ourselves.

Usage: python killing_wrapper.py N connector-command... (spec/discover/check pass through untouched)
"""

import os
import signal
import subprocess
import sys

limit = int(sys.argv[1])
command = sys.argv[2:]
if "read" not in command:
    os.execvp(command[0], command)
child = subprocess.Popen(command, stdout=subprocess.PIPE)
out = sys.stdout.buffer
for number, line in enumerate(child.stdout, 1):
    out.write(line)
    if number >= limit:
        break
out.flush()
child.kill()
os.kill(os.getpid(), signal.SIGKILL)
