"""What both ways in check the same way: the config, the catalog, the state, and every form of a secret."""
