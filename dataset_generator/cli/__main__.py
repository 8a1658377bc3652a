"""`python -m dataset_generator.cli`."""

from .app import main

main()
