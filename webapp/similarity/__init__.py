"""TF-IDF similarity: related passages across sources, and label suggestions from the hand labels."""
