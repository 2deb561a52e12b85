"""Reusable widgets and the pure text renderers the screens share."""
