"""cellportal: a self-hostable single-cell data publishing platform."""

__version__ = "0.1.0"
__all__ = ["__version__"]
