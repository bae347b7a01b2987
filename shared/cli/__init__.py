"""The `controlroom` sub-commands that run the analyses and the knowledge base on local files."""
