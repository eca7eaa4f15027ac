"""The platform's benchmark: ``python -m benchmarks`` (see ``__main__``), one module per figure,
run against any domain of the workspace."""
