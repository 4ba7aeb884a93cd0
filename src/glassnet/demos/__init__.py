"""The demos of the seed documents, runnable as ``glassnet demo NAME`` or ``python -m glassnet.demos.NAME``."""
