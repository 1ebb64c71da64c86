"""roi_xl: formula-driven Excel ROI models for phone systems, CRMs and B2B phoning."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("roi_xl")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
