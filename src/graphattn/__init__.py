"""Probe whether a language model's attention heads encode the edges of a graph written as text."""

__version__ = "0.1.0"
