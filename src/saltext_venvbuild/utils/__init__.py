"""Helpers of the Salt adapters that need Salt functions (passed in as ``salt``,
the caller's ``__salt__``). Salt does not load this package through the loader:
the execution module imports it directly."""
