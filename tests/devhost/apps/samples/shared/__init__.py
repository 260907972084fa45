"""Helpers the samples share (a package named like the one of many apps, to show each app gets its own)."""
