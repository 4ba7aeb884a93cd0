"""The demos of the seed documents.

Run one as ``glassnet demo NAME`` or ``python -m glassnet.demos.NAME``.
"""
