"""fundtrail: share crypto-crime intel, trace funds on-chain, build cases, screen transfers."""

__version__ = "0.1.0"

__all__ = ["__version__"]
