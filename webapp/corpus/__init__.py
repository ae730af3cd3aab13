"""The corpus: documents split into passages, where they come from, and the taxonomy of topics and stances."""
