"""Entry point: `python -m evals DATASET.jsonl [options]` and `python -m evals compare A B`."""

from evals.command import main

main()
