"""Labels in the formats other tools use: CSV, Label Studio, doccano and Prodigy."""
