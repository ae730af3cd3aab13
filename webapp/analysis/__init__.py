"""Reading the labels back: viewpoints side by side, agreement, charts, full-text search and API read models."""
