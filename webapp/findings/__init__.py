"""Findings drawn from the labelled passages: the key arguments on each side and the brief."""
