"""Lecture features: scene player, presenter mode."""
