"""Model providers rdbench adds to Inspect: `rdbench-local/<name>` (a GGUF model on CPU).

Importing `rdbench.models.local` registers the provider; Inspect does so through the
`rdbench._registry` entry point.
"""
