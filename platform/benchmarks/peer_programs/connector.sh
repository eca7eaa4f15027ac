#!/bin/sh
# A source connector as one executable, for PyAirbyte's local_executable: runs the command in
# BENCHMARK_CONNECTOR (a shell-quoted command line) with this script's arguments.
eval "exec $BENCHMARK_CONNECTOR \"\$@\""
