"""The package version, in a module of its own so that any module can name it without importing
the package's public API (``sim/__init__.py``), which sits above everything else."""

__version__ = "0.1.0"
