"""Every table of the application on one MetaData: the store's and the projections'."""

from events.schema import metadata

__all__ = ["metadata"]
