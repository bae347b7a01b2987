"""The pure core: messages, documents, errors, topology, the dataset model and the ports.

Nothing here imports a cloud client, an adapter, a use case or a feature slice; everything
above may import it (the import-linter contracts in pyproject.toml check both).
"""
