"""rollsplit: the thin command line over spec/, reference/, solver/ and conformance/."""

__version__ = "0.1.0"
