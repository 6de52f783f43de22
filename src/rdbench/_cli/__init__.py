"""One module per `rdbench` verb; see `rdbench.cli` for the table of verbs."""
